package io.vmsched.balance;

/**
 * One exchange's candidates, laid out as {@link VmSelector#select} reads them, kept from exchange to
 * exchange so that gathering them allocates nothing once the arrays have grown to the host's VM count.
 * <p>
 * They start small (a simulation keeps one per host, 10,000 of them) and grow to the host's VM count.
 * <p>
 * <b>Note:</b> Not threadsafe: one per host agent (or simulator).
 */
public final class Candidates
{
    /** Each candidate's VM id. */
    public long[] ids = new long[8];
    /** Each candidate's load on the source. */
    public double[] onSource = new double[8];
    /** Each candidate's load on the peer, as the peer computes it. */
    public double[] onPeer = new double[8];
    /** Each candidate's load volatility (left at 0 where it is not measured). */
    public double[] volatility = new double[8];
    /** Each candidate's reason not to move, {@link Rejection#NONE} if it may. */
    public Rejection[] blocked = new Rejection[8];
    /** For a candidate rejected for {@link Rejection#RULE}: the rule's name. */
    public String[] rules = new String[8];
    /** The selector's choices, as indices into the arrays above. */
    public int[] chosen = new int[8];
    /** Whether a candidate passed the placement rule this exchange (each is checked once an exchange at most). */
    public boolean[] cleared = new boolean[8];
    /** The selection's scratch: each candidate's score in a round ({@link VmSelector.Check}). */
    public double[] scores = new double[8];

    /**
     * Make room for {@code count} candidates (the contents are not kept when the arrays grow).
     *
     * @param count candidates to hold.
     * @return this.
     */
    public Candidates ensure(final int count)
    {
        if (ids.length < count)
        {
            final int length = Math.max(count, ids.length * 2);
            ids = new long[length];
            onSource = new double[length];
            onPeer = new double[length];
            volatility = new double[length];
            blocked = new Rejection[length];
            rules = new String[length];
            chosen = new int[length];
            cleared = new boolean[length];
            scores = new double[length];
        }
        return this;
    }
}
