package io.vmsched.balance;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One exchange's decision with its reasons: who was compared, the difference, the VMs chosen
 * with their load on both hosts, and the candidates rejected and why. Recorded in dry-run mode
 * for an operator to review, and journaled by the runtime.
 * <p>
 * <b>Note:</b> Not threadsafe: built by one decision, then read.
 */
public final class BalanceDecision
{
    /** A VM chosen to move. */
    public record Move(long vmId, double loadOnSource, double loadOnPeer)
    {
    }

    /**
     * A candidate not chosen.
     *
     * @param vmId   the VM.
     * @param reason why.
     * @param rule   for {@link Rejection#RULE}, the rule or limit that forbids the move; else null.
     */
    public record Rejected(long vmId, Rejection reason, String rule)
    {
        /**
         * @param vmId   the VM.
         * @param reason why (not a rule).
         */
        public Rejected(final long vmId, final Rejection reason)
        {
            this(vmId, reason, null);
        }
    }

    private final int source;
    private final int peer;
    private final double sourceLoad;
    private final double peerLoad;
    private final double threshold;
    private final double meanEstimate;
    private final List<Move> moves = new ArrayList<>();
    /** Rejected candidates listed by name; the others are counted (a pile-up's host has thousands, journaled per decision). */
    public static final int LISTED_REJECTIONS = 16;
    private final List<Rejected> rejected = new ArrayList<>();
    private int rejectedUnlisted;
    private DecisionOutcome decisionOutcome = DecisionOutcome.UNKNOWN;
    private String outcome = "no move";

    /**
     * @param source     the shedding host.
     * @param peer       its peer.
     * @param sourceLoad the source's load.
     * @param peerLoad   the peer's load.
     * @param threshold  the difference below which no move is made.
     * @param meanEstimate the source's estimate of the cluster's mean load (what the threshold is a fraction of).
     */
    public BalanceDecision(final int source, final int peer, final double sourceLoad, final double peerLoad,
        final double threshold, final double meanEstimate)
    {
        this.meanEstimate = meanEstimate;
        this.source = source;
        this.peer = peer;
        this.sourceLoad = sourceLoad;
        this.peerLoad = peerLoad;
        this.threshold = threshold;
    }

    void addMove(final long vmId, final double onSource, final double onPeer)
    {
        moves.add(new Move(vmId, onSource, onPeer));
    }

    void addRejected(final long vmId, final Rejection reason)
    {
        if (rejected.size() < LISTED_REJECTIONS)
        {
            rejected.add(new Rejected(vmId, reason));
        }
        else
        {
            rejectedUnlisted++;
        }
    }

    /**
     * Name the rule of each listed candidate rejected for {@link Rejection#RULE}.
     *
     * @param count candidates.
     * @param ids   their VM ids.
     * @param rules their rules (null where none).
     */
    void nameRules(final int count, final long[] ids, final String[] rules)
    {
        for (int r = 0; r < rejected.size(); r++)
        {
            final Rejected entry = rejected.get(r);
            if (entry.reason() == Rejection.RULE)
            {
                for (int i = 0; i < count; i++)
                {
                    if (ids[i] == entry.vmId())
                    {
                        rejected.set(r, new Rejected(entry.vmId(), Rejection.RULE, rules[i]));
                        break;
                    }
                }
            }
        }
    }

    /** @return whether further rejections are only counted. */
    boolean rejectionsListed()
    {
        return rejected.size() >= LISTED_REJECTIONS;
    }

    /** Count {@code n} more rejected candidates without naming them. */
    void addUnlistedRejections(final int n)
    {
        rejectedUnlisted += n;
    }

    /**
     * Set the decision's outcome (the selector sets it, where it decides).
     *
     * @param decisionOutcome what was decided.
     * @param outcome         the same in words, with figures (the journaled text's).
     */
    void outcome(final DecisionOutcome decisionOutcome, final String outcome)
    {
        this.decisionOutcome = decisionOutcome;
        this.outcome = outcome;
    }

    /** @return the shedding host. */
    public int source()
    {
        return source;
    }

    /** @return the peer. */
    public int peer()
    {
        return peer;
    }

    /** @return the source's load. */
    public double sourceLoad()
    {
        return sourceLoad;
    }

    /** @return the peer's load. */
    public double peerLoad()
    {
        return peerLoad;
    }

    /** @return the difference the pair had to exceed for a move (the scaled threshold times the mean). */
    public double threshold()
    {
        return threshold;
    }

    /** @return the source's estimate of the cluster's mean load when it decided. */
    public double meanEstimate()
    {
        return meanEstimate;
    }

    /** @return source load minus peer load. */
    public double difference()
    {
        return sourceLoad - peerLoad;
    }

    /** @return the VMs chosen, in order. */
    public List<Move> moves()
    {
        return moves;
    }

    /** @return the first {@link #LISTED_REJECTIONS} candidates rejected, with reasons. */
    public List<Rejected> rejected()
    {
        return rejected;
    }

    /** @return candidates rejected beyond those listed. */
    public int rejectedUnlisted()
    {
        return rejectedUnlisted;
    }

    /** @return what happened in words, e.g. "moves 2" (part of {@link #toString()}). */
    public String outcome()
    {
        return outcome;
    }

    /** @return what was decided ({@link DecisionOutcome#UNKNOWN} until the selector decides): the journaled code. */
    public DecisionOutcome decisionOutcome()
    {
        return decisionOutcome;
    }

    @Override
    public String toString()
    {
        final StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "host %d -> peer %d: loads %.4f vs %.4f, difference %.4f (threshold %.4f, mean %.4f): %s",
            source, peer, sourceLoad, peerLoad, difference(), threshold, meanEstimate, outcome));
        for (final Move m : moves)
        {
            sb.append(String.format(Locale.ROOT, "; move vm %d (%.4f here, %.4f there, half the difference %.4f)",
                m.vmId(), m.loadOnSource(), m.loadOnPeer(), difference() / 2));
        }
        if (!rejected.isEmpty())
        {
            sb.append("; rejected");
            for (final Rejected r : rejected)
            {
                sb.append(' ').append(r.vmId()).append('=').append(r.reason());
                if (r.rule() != null)
                {
                    sb.append('(').append(r.rule()).append(')');
                }
            }
            if (rejectedUnlisted > 0)
            {
                sb.append(" and ").append(rejectedUnlisted).append(" more");
            }
        }
        return sb.toString();
    }
}
