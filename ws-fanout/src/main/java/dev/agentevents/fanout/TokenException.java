package dev.agentevents.fanout;

/** A token that does not let anyone in, with the reason (sent to the client in a 401 body or a 4401 close). */
final class TokenException extends Exception {

    TokenException(String message) {
        super(message, null, false, false);
    }
}
