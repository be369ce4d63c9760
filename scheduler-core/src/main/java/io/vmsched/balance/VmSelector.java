package io.vmsched.balance;

/**
 * Chooses the VMs one exchange moves (seed VM claims 5, 19, 28): while the source's load exceeds
 * the peer's by more than the threshold, the candidate whose load is nearest half the difference,
 * provided the move strictly lowers the pair's difference; then the same on the remaining
 * difference, up to the exchange's limit ("at least a first VM"). The moves together must lower the
 * difference by at least the minimum gain, or none is made: one VM of a trace's ten a host must be
 * worth its move, and a hundred small VMs of a pile-up are worth theirs together. A move never
 * leaves the peer further above the mean than the peer ceiling allows.
 * <p>
 * On heterogeneous hosts a VM has one load on the source ({@code onSource}) and another on the
 * peer ({@code onPeer}, which the peer computed from the VM's load factors); moving it changes the
 * difference by {@code onSource + onPeer}, so "nearest half the difference" compares the mean of the
 * two figures with half the difference, which on equal hosts is the VM's load itself.
 * <p>
 * Pure: no threads, no clock, no randomness. Allocates nothing unless a decision is recorded.
 */
public final class VmSelector
{
    private VmSelector()
    {
    }

    /**
     * A check the selection makes of each round's choice before it takes it (the placement rules, when they
     * are not checked up front): a refused choice is blocked for {@link Rejection#RULE} and the round takes
     * the next best instead, so each round chooses what it would with every refused candidate blocked
     * beforehand, while a round whose choice passes checks that one candidate only. After
     * {@link #LAZY_REFUSALS} refusals the round checks all its other candidates at once (checks made one
     * after another, independent of each other, cost less than the same checks each waiting for the
     * next-best search), bounding it at that many searches plus one check of each candidate.
     */
    @FunctionalInterface
    public interface Check
    {
        /**
         * @param candidate a candidate's index.
         * @return whether it may not move.
         */
        boolean refused(int candidate);

        /**
         * Told of the selection's first refusal, before it looks for the next best: it may mark refused, at once,
         * candidates it can tell refused at little cost each ({@link PlacementRule#screen}); only ones it would
         * refuse (default: none).
         *
         * @param blocked each candidate's reason not to move.
         * @param count   candidates.
         */
        default void firstRefusal(final Rejection[] blocked, final int count)
        {
        }
    }

    /** Refusals in a selection after which a round checks all its candidates at once ({@link Check}). */
    static final int LAZY_REFUSALS = 2;

    /**
     * Choose VMs to move from a source to a peer.
     *
     * @param config     the balancer's settings.
     * @param sourceLoad the source's load.
     * @param peerLoad   the peer's load.
     * @param mean       the cluster's mean host load as the source estimates it (scales the threshold and gain).
     * @param count      number of candidates.
     * @param vmIds      candidates' ids (for the record), or null.
     * @param onSource   each candidate's load on the source.
     * @param onPeer     each candidate's load on the peer.
     * @param volatility each candidate's load volatility (for {@link BalanceConfig#stabilityWeight}), or null.
     * @param blocked    each candidate's reason not to move, {@link Rejection#NONE} if it may; a chosen
     *                   candidate is marked {@link Rejection#MIGRATING} here.
     * @param maxMoves   most moves (0 = no limit; negative: the source has no room for another
     *                   migration, so every free candidate is rejected for {@link Rejection#CONCURRENCY}).
     * @param chosen     receives the indices chosen, in order.
     * @param record     receives the reasons, or null.
     * @return number of candidates chosen.
     */
    public static int select(
        final BalanceConfig config,
        final double sourceLoad,
        final double peerLoad,
        final double mean,
        final int count,
        final long[] vmIds,
        final double[] onSource,
        final double[] onPeer,
        final double[] volatility,
        final Rejection[] blocked,
        final int maxMoves,
        final int[] chosen,
        final BalanceDecision record)
    {
        return select(config, sourceLoad, peerLoad, mean, count, vmIds, onSource, onPeer, volatility, blocked, maxMoves,
            chosen, record, null, null);
    }

    /**
     * {@link #select(BalanceConfig, double, double, double, int, long[], double[], double[], double[], Rejection[],
     * int, int[], BalanceDecision) select}, checking each round's choice ({@link Check}).
     *
     * @param config     the balancer's settings.
     * @param sourceLoad the source's load.
     * @param peerLoad   the peer's load.
     * @param mean       the cluster's mean host load as the source estimates it.
     * @param count      number of candidates.
     * @param vmIds      candidates' ids (for the record), or null.
     * @param onSource   each candidate's load on the source.
     * @param onPeer     each candidate's load on the peer.
     * @param volatility each candidate's load volatility, or null.
     * @param blocked    each candidate's reason not to move; a refused one is marked {@link Rejection#RULE}.
     * @param maxMoves   most moves (0 = no limit; negative: no room for another migration).
     * @param chosen     receives the indices chosen, in order.
     * @param record     receives the reasons, or null.
     * @param check      the check, or null for none.
     * @param scores     scratch of at least {@code count} (each round's scores, for its next best), or null
     *                   when {@code check} is.
     * @return number of candidates chosen.
     */
    public static int select(
        final BalanceConfig config,
        final double sourceLoad,
        final double peerLoad,
        final double mean,
        final int count,
        final long[] vmIds,
        final double[] onSource,
        final double[] onPeer,
        final double[] volatility,
        final Rejection[] blocked,
        final int maxMoves,
        final int[] chosen,
        final BalanceDecision record,
        final Check check,
        final double[] scores)
    {
        final double threshold = config.thresholdFraction * mean;
        final double minGain = config.minGainFraction * mean;
        final double ceiling = config.peerCeilingFraction == Double.POSITIVE_INFINITY ? Double.POSITIVE_INFINITY :
            mean + config.peerCeilingFraction * threshold;
        final double excessLine = mean * (1 + config.sourceExcessFraction);
        final double stability = volatility == null ? 0.0 : config.stabilityWeight;
        double source = sourceLoad;
        double peer = peerLoad;
        int moves = 0;
        int refusals = 0;
        boolean cappedAtMean = false;
        final boolean noRoom = maxMoves < 0;
        if (noRoom)
        {
            for (int i = 0; i < count; i++)
            {
                blocked[i] = blocked[i] == Rejection.NONE ? Rejection.CONCURRENCY : blocked[i];
            }
        }

        while (!noRoom && (maxMoves == 0 || moves < maxMoves))
        {
            if (!worthExchanging(config, source, peer, mean))
            {
                break;
            }
            final double difference = source - peer;
            double target = difference / 2; // the claims: the VM nearest half the difference
            if (config.capAtMean)
            {
                // but never push the peer past the mean, nor take the source below it
                target = Math.min(target, Math.min(source - mean, mean - peer));
                if (target <= 0)
                {
                    cappedAtMean = moves == 0;
                    break;
                }
            }
            int best = -1;
            double bestScore = Double.POSITIVE_INFINITY;
            for (int i = 0; i < count; i++)
            {
                if (blocked[i] != Rejection.NONE)
                {
                    continue;
                }
                final double toPeer = onPeer[i];
                if (peer + toPeer > config.peerLoadCap)
                {
                    blocked[i] = Rejection.CAPACITY;
                    continue;
                }
                if (check != null)
                {
                    scores[i] = Double.POSITIVE_INFINITY; // no choice this round, unless scored below
                }
                if (peer + toPeer > ceiling && (moves > 0 || peerLoad > mean))
                {
                    // would make the peer a host that must shed in turn; but a peer at or below the mean
                    // may take one VM however large (a VM larger than the room is placed only alone)
                    continue;
                }
                final double moved = onSource[i] + toPeer;
                final double after = Math.abs(difference - moved);
                if (after >= difference)
                {
                    continue; // does not lower the difference
                }
                final double nearness = Math.abs(moved - 2 * target); // |mean of both figures - target| x 2
                final double score = stability == 0.0 ? nearness : nearness + stability * volatility[i];
                if (check != null)
                {
                    scores[i] = score;
                }
                if (score < bestScore)
                {
                    bestScore = score;
                    best = i;
                }
            }
            if (check != null)
            {
                while (best >= 0 && check.refused(best))
                {
                    blocked[best] = Rejection.RULE;
                    if (++refusals == 1)
                    {
                        check.firstRefusal(blocked, count);
                    }
                    if (refusals >= LAZY_REFUSALS)
                    {
                        // the rest of the round at once: the best left has passed
                        for (int i = 0; i < count; i++)
                        {
                            if (blocked[i] == Rejection.NONE && scores[i] < Double.POSITIVE_INFINITY && check.refused(i))
                            {
                                blocked[i] = Rejection.RULE;
                            }
                        }
                        best = nextBest(blocked, scores, count);
                        break;
                    }
                    best = nextBest(blocked, scores, count);
                }
            }
            if (best < 0)
            {
                break;
            }
            chosen[moves++] = best;
            blocked[best] = Rejection.MIGRATING;
            source -= onSource[best];
            peer += onPeer[best];
        }
        if (moves > 0 && (sourceLoad - peerLoad) - Math.abs(source - peer) < minGain)
        {
            // together the moves do not lower the difference by the minimum gain: none is made
            for (int m = 0; m < moves; m++)
            {
                blocked[chosen[m]] = Rejection.NONE;
            }
            moves = 0;
            source = sourceLoad;
            peer = peerLoad;
        }
        if (record != null)
        {
            for (int m = 0; m < moves; m++)
            {
                record.addMove(vmIds == null ? chosen[m] : vmIds[chosen[m]], onSource[chosen[m]], onPeer[chosen[m]]);
            }
        }

        if (record != null)
        {
            final double difference = sourceLoad - peerLoad;
            if (moves > 0)
            {
                record.outcome(config.dryRun ? DecisionOutcome.DRY_RUN : DecisionOutcome.MOVED, "moves " + moves);
            }
            else if (noRoom)
            {
                record.outcome(DecisionOutcome.CONCURRENCY_LIMIT, "concurrent migrations at their limit");
            }
            else if (difference <= threshold)
            {
                record.outcome(DecisionOutcome.WITHIN_THRESHOLD, "difference within threshold");
            }
            else if (config.shedOnlyAboveMean && sourceLoad <= excessLine)
            {
                record.outcome(DecisionOutcome.SOURCE_NOT_ABOVE_MEAN, "source not above the mean");
            }
            else if (count == 0)
            {
                record.outcome(DecisionOutcome.NO_CANDIDATE, "no VM to move");
            }
            else if (cappedAtMean)
            {
                record.outcome(DecisionOutcome.CAPPED_AT_MEAN, "capped at the mean");
            }
            else if (allBlocked(blocked, count))
            {
                record.outcome(DecisionOutcome.ALL_BLOCKED, "every VM blocked");
            }
            else
            {
                record.outcome(DecisionOutcome.NO_GAIN, "no VMs lower the difference by the minimum gain");
            }
            for (int i = 0; i < count; i++)
            {
                if (record.rejectionsListed())
                {
                    // the rest are counted, not named: the chosen ones among them are not rejections
                    int unlisted = count - i;
                    for (int m = 0; m < moves; m++)
                    {
                        unlisted -= chosen[m] >= i ? 1 : 0;
                    }
                    record.addUnlistedRejections(unlisted);
                    break;
                }
                if (blocked[i] == Rejection.MIGRATING && contains(chosen, moves, i))
                {
                    continue;
                }
                Rejection reason = blocked[i];
                if (reason == Rejection.NONE)
                {
                    final double after = Math.abs(difference - onSource[i] - onPeer[i]);
                    reason = after > difference - minGain ? Rejection.NO_GAIN : Rejection.NOT_NEAREST;
                }
                record.addRejected(vmIds == null ? i : vmIds[i], reason);
            }
        }
        return moves;
    }

    /**
     * The exchange's gate, the same for the runtime and the simulator: whether the source's load
     * exceeds the peer's by more than the threshold and, with {@link BalanceConfig#shedOnlyAboveMean},
     * the source is above the mean by its excess fraction. A caller checks it before gathering the
     * candidates, so an exchange with nothing to do costs no more than the two loads.
     *
     * @param config     the balancer's settings.
     * @param sourceLoad the source's load.
     * @param peerLoad   the peer's load.
     * @param mean       the cluster's mean host load as the source estimates it.
     * @return true if a move may be worth looking for.
     */
    public static boolean worthExchanging(final BalanceConfig config, final double sourceLoad, final double peerLoad,
        final double mean)
    {
        return sourceLoad - peerLoad > config.thresholdFraction * mean &&
            !(config.shedOnlyAboveMean && sourceLoad <= mean * (1 + config.sourceExcessFraction));
    }

    /** The round's choice among the candidates left: its scan's, had the ones blocked since been blocked before. */
    private static int nextBest(final Rejection[] blocked, final double[] scores, final int count)
    {
        int best = -1;
        double bestScore = Double.POSITIVE_INFINITY;
        for (int i = 0; i < count; i++)
        {
            if (blocked[i] == Rejection.NONE && scores[i] < bestScore)
            {
                bestScore = scores[i];
                best = i;
            }
        }
        return best;
    }

    private static boolean allBlocked(final Rejection[] blocked, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            if (blocked[i] == Rejection.NONE)
            {
                return false;
            }
        }
        return true;
    }

    /** @return whether {@code value} is among the first {@code length} of {@code values}. */
    static boolean contains(final int[] values, final int length, final int value)
    {
        for (int i = 0; i < length; i++)
        {
            if (values[i] == value)
            {
                return true;
            }
        }
        return false;
    }
}
