package dev.agentevents.schemas;

/** The Confluent wire format's 5-byte header: magic byte 0, then the schema id as a big-endian int. */
public final class WireFormat {

    public static final byte MAGIC_BYTE = 0;
    public static final int HEADER_LENGTH = 5;

    private WireFormat() {
    }
}
