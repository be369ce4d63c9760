package io.vmsched.aeron;

/**
 * Why {@link AeronTransport} refused a frame. A refused frame changes nothing: it is not delivered
 * and it moves no sender's sequence.
 */
public enum Refusal
{
    /** Shorter than a header and a MAC, or than the payload length it states. */
    TRUNCATED("truncated frame"),
    /** Longer than the payload length it states, a negative length, or a message type below 1. */
    MALFORMED("malformed frame: length or type out of range"),
    /** A version this code does not read (the layout may differ, so the MAC is not even checked). */
    WRONG_VERSION("unknown version"),
    /** The MAC does not match: a wrong key, or a byte altered on the way. */
    BAD_MAC("bad MAC"),
    /** Authenticated, but the sender is not in the peer directory. */
    UNKNOWN_SENDER("unknown sender"),
    /** Authenticated, but meant for another host. */
    WRONG_TARGET("meant for another host"),
    /** Authenticated, but its sequence number is not greater than the last accepted from its sender. */
    REPLAY("replayed or stale sequence number"),
    /** Larger than the inbox can ever hold. */
    TOO_LONG("larger than the inbox's largest message"),
    /** No inbox attached (the host stopped). */
    NO_INBOX("no inbox attached"),
    /** Authenticated, but of a type no peer may send (the API's requests, the registry's answers). */
    NOT_A_PEER_MESSAGE("a message type no peer may send"),
    /** Authenticated, but its payload names another sender than the one that signed it. */
    SENDER_MISMATCH("its payload names another sender"),
    /**
     * Authenticated, but for an earlier incarnation of this host (captured before it restarted and
     * replayed), or from a sender that has not learned this one yet (it is sent a HELLO).
     */
    STALE_INCARNATION("for another incarnation of this host (replayed from before its restart, or a peer not yet told)");

    private final String reason;

    Refusal(final String reason)
    {
        this.reason = reason;
    }

    /** @return the reason as the log line states it. */
    public String reason()
    {
        return reason;
    }
}
