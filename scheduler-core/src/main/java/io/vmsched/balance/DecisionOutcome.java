package io.vmsched.balance;

/**
 * What one balance exchange decided: VMs chosen, or the reason none was. {@link VmSelector} sets it
 * on a {@link BalanceDecision} where it decides; the runtime stores its code in the {@code DECISION}
 * journal record's header ({@code io.vmsched.journal.JournalRecord#decisionOutcome()}), the decision's
 * words staying in the record's text as detail.
 * <p>
 * It lives here rather than in the journal package because it is the selector's vocabulary (the
 * simulator uses it with no journal at all); the journal only stores its code. Codes are part of the
 * journal's on-disk schema all the same: never renumber one, only add. A code this reader does not
 * know (a newer writer's) reads as {@link #UNKNOWN}.
 * <p>
 * Threading: immutable.
 */
public enum DecisionOutcome
{
    /** Journaled before outcomes were coded (code 0), or an outcome newer than this reader. */
    UNKNOWN(0),
    /** VMs were chosen, and move. */
    MOVED(1),
    /** VMs were chosen, but it is a dry run: none moves. */
    DRY_RUN(2),
    /** The pair's difference is not above the threshold. */
    WITHIN_THRESHOLD(3),
    /** The source is not above the mean by its excess fraction ({@link BalanceConfig#shedOnlyAboveMean}). */
    SOURCE_NOT_ABOVE_MEAN(4),
    /** The source's concurrent migrations are at their limit. */
    CONCURRENCY_LIMIT(5),
    /** The source has no VM to offer. */
    NO_CANDIDATE(6),
    /** {@link BalanceConfig#capAtMean}: the source is not above the mean, or the peer not below it. */
    CAPPED_AT_MEAN(7),
    /** Every candidate was blocked (migrating, pinned, residency, ping-pong, the peer's capacity). */
    ALL_BLOCKED(8),
    /** Some candidates could move, but none lowers the pair's difference by the minimum gain. */
    NO_GAIN(9);

    private static final DecisionOutcome[] BY_CODE;

    static
    {
        int max = 0;
        for (final DecisionOutcome outcome : values())
        {
            max = Math.max(max, outcome.code);
        }
        BY_CODE = new DecisionOutcome[max + 1];
        for (final DecisionOutcome outcome : values())
        {
            if (BY_CODE[outcome.code] != null)
            {
                throw new ExceptionInInitializerError("decision outcome code " + outcome.code + " used twice");
            }
            BY_CODE[outcome.code] = outcome;
        }
    }

    private final int code;
    private final String label;

    DecisionOutcome(final int code)
    {
        this.code = code;
        this.label = name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /** @return the code stored on disk. */
    public int code()
    {
        return code;
    }

    /** @return a short lower-case name for tools, e.g. {@code within-threshold}. */
    public String label()
    {
        return label;
    }

    /**
     * @param code a stored code.
     * @return its outcome; {@link #UNKNOWN} for 0 (a record from before codes) or a code this reader does not know.
     */
    public static DecisionOutcome of(final int code)
    {
        return code > 0 && code < BY_CODE.length && BY_CODE[code] != null ? BY_CODE[code] : UNKNOWN;
    }
}
