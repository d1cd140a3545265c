package dev.agentevents.schemas;

/** The Confluent wire format's 5-byte header: magic byte 0, then the schema id as a big-endian int. */
final class WireFormat {

    static final byte MAGIC_BYTE = 0;
    static final int HEADER_LENGTH = 5;

    private WireFormat() {
    }
}
