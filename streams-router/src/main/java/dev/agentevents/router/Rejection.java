package dev.agentevents.router;

/** An input record the router refuses, with its reason code and a message naming the bad value. */
final class Rejection extends Exception {

    private final RejectReason reason;

    Rejection(RejectReason reason, String message) {
        super(message, null, false, false);
        this.reason = reason;
    }

    RejectReason reason() {
        return reason;
    }
}
