package io.vmsched.balance;

/**
 * Why a candidate VM was not chosen in an exchange, as recorded in a dry run.
 */
public enum Rejection
{
    /** Eligible: no reason. */
    NONE,
    /** Already migrating. */
    MIGRATING,
    /** Has not stayed its minimum residency on this host. */
    RESIDENCY,
    /** Would go straight back to the host it just left. */
    PING_PONG,
    /** Would push the peer over its capacity. */
    CAPACITY,
    /** Would not lower the pair's difference by the minimum gain. */
    NO_GAIN,
    /** Eligible, but another VM was nearer half the difference. */
    NOT_NEAREST,
    /** The host's concurrent-migration limit was reached. */
    CONCURRENCY,
    /** An external VM (an OS process bound by PID): no driver can move it yet. */
    PINNED,
    /** A placement rule forbids the peer (the {@link PlacementRule} of the exchange). */
    RULE
}
