package io.vmsched.balance;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

class VmSelectorTest
{
    private final int[] chosen = new int[16];

    private static Rejection[] open(final int n)
    {
        final Rejection[] blocked = new Rejection[n];
        Arrays.fill(blocked, Rejection.NONE);
        return blocked;
    }

    private static BalanceConfig config(final int maxMoves)
    {
        final BalanceConfig config = new BalanceConfig();
        config.thresholdFraction = 0.1;
        config.minGainFraction = 0.0;
        config.maxMovesPerExchange = maxMoves;
        return config;
    }

    @Test
    void choosesTheVmNearestHalfTheDifference()
    {
        // source 1.0, peer 0.2: difference 0.8, half 0.4; the 0.35 VM is nearest
        final double[] loads = { 0.1, 0.35, 0.55 };
        final int moves = VmSelector.select(config(1), 1.0, 0.2, 0.6, 3, null, loads, loads, null, open(3), 1,
            chosen, null);
        assertEquals(1, moves);
        assertEquals(1, chosen[0]);
    }

    @Test
    void refusesAMoveThatWouldNotLowerTheDifference()
    {
        // difference 0.5: moving the 0.75 VM would leave a difference of 1.0 the other way
        final double[] loads = { 0.75 };
        assertEquals(0, VmSelector.select(config(1), 1.0, 0.5, 0.75, 1, null, loads, loads, null, open(1), 1,
            chosen, null));
        // exactly the difference would only swap the hosts' roles: not strictly lower either
        final double[] swap = { 0.5 };
        assertEquals(0, VmSelector.select(config(1), 1.0, 0.5, 0.75, 1, null, swap, swap, null, open(1), 1,
            chosen, null));
    }

    @Test
    void noMoveWithinTheThreshold()
    {
        final double[] loads = { 0.02 };
        // difference 0.05 is under 10 % of the mean 0.6
        assertEquals(0, VmSelector.select(config(1), 0.625, 0.575, 0.6, 1, null, loads, loads, null, open(1), 1,
            chosen, null));
    }

    @Test
    void heterogeneousLoadsChangeTheChoice()
    {
        // Source 1.0, peer 0.2 (difference 0.8). On a peer twice as big, a VM's load there is half.
        final double[] onSource = { 0.4, 0.55 };
        final double[] sameSize = { 0.4, 0.55 };
        final double[] twiceAsBig = { 0.2, 0.275 };
        assertEquals(1, VmSelector.select(config(1), 1.0, 0.2, 0.6, 2, null, onSource, sameSize, null, open(2), 1,
            chosen, null));
        assertEquals(0, chosen[0], "equal hosts: the 0.4 VM is exactly half the difference");
        assertEquals(1, VmSelector.select(config(1), 1.0, 0.2, 0.6, 2, null, onSource, twiceAsBig, null, open(2), 1,
            chosen, null));
        assertEquals(1, chosen[0], "bigger peer: moving 0.55 here / 0.275 there lowers the difference most");
    }

    @Test
    void repeatsOnTheRemainingDifferenceUpToTheLimit()
    {
        // source 2.0, peer 0.0: moves 1.0 first (half of 2.0)? only 0.5s exist: 0.5 then the rest
        final double[] loads = { 0.5, 0.5, 0.5, 0.5 };
        assertEquals(1, VmSelector.select(config(1), 2.0, 0.0, 1.0, 4, null, loads, loads, null, open(4), 1,
            chosen, null));
        assertEquals(2, VmSelector.select(config(0), 2.0, 0.0, 1.0, 4, null, loads, loads, null, open(4), 0,
            chosen, null), "no limit: two moves balance the pair exactly, a third would not help");
    }

    @Test
    void aSourceWithNoRoomForAnotherMigrationMovesNothingAndSaysWhy()
    {
        final BalanceConfig config = config(4);
        config.maxConcurrentPerHost = 2;
        assertEquals(-1, config.movesAllowed(2), "no room");
        assertEquals(1, config.movesAllowed(1), "the room left caps the exchange limit");
        assertEquals(2, config.movesAllowed(0), "room 2 caps a limit of 4");
        config.maxConcurrentPerHost = 0;
        assertEquals(4, config.movesAllowed(7), "no concurrency limit: the exchange limit");
        config.maxConcurrentPerHost = 2;

        final double[] loads = { 0.4, 0.38 };
        final Rejection[] blocked = open(2);
        blocked[0] = Rejection.PING_PONG;
        final BalanceDecision record = new BalanceDecision(1, 2, 1.0, 0.2, 0.06, 0.6);
        assertEquals(0, VmSelector.select(config, 1.0, 0.2, 0.6, 2, new long[] { 10, 11 }, loads, loads, null, blocked,
            config.movesAllowed(2), chosen, record));
        assertEquals("concurrent migrations at their limit", record.outcome());
        assertTrue(record.rejected().contains(new BalanceDecision.Rejected(10, Rejection.PING_PONG)));
        assertTrue(record.rejected().contains(new BalanceDecision.Rejected(11, Rejection.CONCURRENCY)));
    }

    @Test
    void theExchangeGateIsTheDifferenceAndTheSourceAboveTheMean()
    {
        final BalanceConfig config = config(1); // threshold 0.1 of the mean
        assertTrue(VmSelector.worthExchanging(config, 1.0, 0.8, 1.0));
        assertFalse(VmSelector.worthExchanging(config, 1.0, 0.9, 1.0), "a difference of exactly the threshold");
        config.shedOnlyAboveMean = true;
        assertFalse(VmSelector.worthExchanging(config, 0.95, 0.7, 1.0), "below the mean: does not shed");
        config.sourceExcessFraction = 0.1;
        assertFalse(VmSelector.worthExchanging(config, 1.05, 0.7, 1.0), "above the mean but not by the excess");
        assertTrue(VmSelector.worthExchanging(config, 1.15, 0.7, 1.0));
    }

    @Test
    void blockedCandidatesAreSkippedAndTheDryRunSaysWhy()
    {
        final double[] loads = { 0.4, 0.38, 0.1 };
        final Rejection[] blocked = open(3);
        blocked[0] = Rejection.PING_PONG;
        final BalanceDecision record = new BalanceDecision(3, 7, 1.0, 0.2, 0.06, 0.6);
        final int moves = VmSelector.select(config(1), 1.0, 0.2, 0.6, 3, new long[] { 10, 11, 12 }, loads, loads,
            null, blocked, 1, chosen, record);
        assertEquals(1, moves);
        assertEquals(1, chosen[0]);
        assertEquals(11, record.moves().get(0).vmId());
        assertEquals("moves 1", record.outcome());
        assertTrue(record.rejected().contains(new BalanceDecision.Rejected(10, Rejection.PING_PONG)));
        assertTrue(record.rejected().contains(new BalanceDecision.Rejected(12, Rejection.NOT_NEAREST)));
        assertTrue(record.toString().contains("host 3 -> peer 7"), record.toString());
    }

    @Test
    void capacityOfThePeerIsRespected()
    {
        final BalanceConfig config = config(1);
        config.peerLoadCap = 0.5;
        final double[] loads = { 0.4 };
        final Rejection[] blocked = open(1);
        assertEquals(0, VmSelector.select(config, 1.0, 0.2, 0.6, 1, null, loads, loads, null, blocked, 1, chosen, null));
        assertEquals(Rejection.CAPACITY, blocked[0]);
    }

    @Test
    void capAtMeanAimsNoFurtherThanTheMean()
    {
        final BalanceConfig config = config(1);
        config.capAtMean = true;
        // source 1.0, peer 0.0, mean 0.8: half the difference is 0.5, but the source is only 0.2 over
        final double[] loads = { 0.5, 0.2 };
        assertEquals(1, VmSelector.select(config, 1.0, 0.0, 0.8, 2, null, loads, loads, null, open(2), 1, chosen, null));
        assertEquals(1, chosen[0]);
    }

    @Test
    void minimumGainRejectsTinyMoves()
    {
        final BalanceConfig config = config(1);
        config.minGainFraction = 0.1;
        final double[] loads = { 0.01 };
        final BalanceDecision record = new BalanceDecision(0, 1, 1.0, 0.5, 0.075, 0.75);
        assertEquals(0, VmSelector.select(config, 1.0, 0.5, 0.75, 1, new long[] { 5 }, loads, loads, null, open(1), 1,
            chosen, record));
        assertEquals(new BalanceDecision.Rejected(5, Rejection.NO_GAIN), record.rejected().get(0));
    }

    @Test
    void theOutcomeIsDecidedWhereTheSelectorDecides()
    {
        assertEquals(DecisionOutcome.MOVED, outcome(config(1), 1.0, 0.2, 0.6, new double[] { 0.35 }, open(1), 1));
        final BalanceConfig dry = config(1);
        dry.dryRun = true;
        assertEquals(DecisionOutcome.DRY_RUN, outcome(dry, 1.0, 0.2, 0.6, new double[] { 0.35 }, open(1), 1));
        assertEquals(DecisionOutcome.CONCURRENCY_LIMIT, outcome(config(1), 1.0, 0.2, 0.6, new double[] { 0.35 },
            open(1), -1));
        assertEquals(DecisionOutcome.WITHIN_THRESHOLD, outcome(config(1), 0.625, 0.575, 0.6, new double[] { 0.02 },
            open(1), 1));
        final BalanceConfig aboveMean = config(1);
        aboveMean.shedOnlyAboveMean = true;
        assertEquals(DecisionOutcome.SOURCE_NOT_ABOVE_MEAN, outcome(aboveMean, 0.9, 0.2, 1.0, new double[] { 0.3 },
            open(1), 1));
        assertEquals(DecisionOutcome.NO_CANDIDATE, outcome(config(1), 1.0, 0.2, 0.6, new double[0], open(0), 1));
        final BalanceConfig capped = config(1);
        capped.capAtMean = true;
        assertEquals(DecisionOutcome.CAPPED_AT_MEAN, outcome(capped, 1.0, 0.7, 0.6, new double[] { 0.1 }, open(1), 1),
            "the peer is above the mean: nothing may go to it");
        final Rejection[] pinned = open(2);
        pinned[0] = Rejection.PINNED;
        pinned[1] = Rejection.RESIDENCY;
        assertEquals(DecisionOutcome.ALL_BLOCKED, outcome(config(1), 1.0, 0.2, 0.6, new double[] { 0.35, 0.3 }, pinned,
            1));
        assertEquals(DecisionOutcome.NO_GAIN, outcome(config(1), 1.0, 0.5, 0.75, new double[] { 0.75 }, open(1), 1));
        assertEquals(DecisionOutcome.UNKNOWN, new BalanceDecision(0, 1, 0, 0, 0, 0).decisionOutcome(), "not decided yet");
    }

    private DecisionOutcome outcome(final BalanceConfig config, final double source, final double peer,
        final double mean, final double[] loads, final Rejection[] blocked, final int maxMoves)
    {
        final BalanceDecision record = new BalanceDecision(0, 1, source, peer, config.thresholdFraction * mean, mean);
        VmSelector.select(config, source, peer, mean, loads.length, null, loads, loads, null, blocked, maxMoves, chosen,
            record);
        return record.decisionOutcome();
    }

    @Test
    void badSettingsAreNamed()
    {
        final BalanceConfig config = new BalanceConfig();
        config.peerChoices = 0;
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, config::validate);
        assertTrue(ex.getMessage().contains("peer choices"), ex.getMessage());
    }

    @Test
    void aHostContactsAtMostEightPeersUnlessTheViewIsGlobal()
    {
        final BalanceConfig config = new BalanceConfig();
        config.peerChoices = BalanceConfig.MAX_CONTACTS;
        config.validate();
        config.peerChoices = BalanceConfig.MAX_CONTACTS + 1;
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, config::validate);
        assertTrue(ex.getMessage().contains("peer choices out of range: 9 (a host contacts at most 8"), ex.getMessage());
        config.view = BalanceConfig.PeerView.GOSSIP;
        assertThrows(IllegalArgumentException.class, config::validate, "the gossip view contacts at most 8 too");
        config.view = BalanceConfig.PeerView.GLOBAL;
        config.validate();
        assertEquals(BalanceConfig.PeerView.GLOBAL, BalanceConfig.PeerView.parse("global"));
        assertEquals(BalanceConfig.PeerView.GOSSIP, BalanceConfig.PeerView.parse("gossip"));
        final IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
            () -> BalanceConfig.PeerView.parse("rumour"));
        assertEquals("unknown view 'rumour': expected contacts, gossip or global", unknown.getMessage());
    }

    @Test
    void smallVmsWorthTheirMovesTogetherMoveTogether()
    {
        final double[] loads = new double[20];
        Arrays.fill(loads, 0.01);
        final BalanceConfig config = config(0);
        config.minGainFraction = 0.2; // 0.1 of the mean 0.5: one VM lowers the difference by 0.02
        final int[] many = new int[20];
        final int moves = VmSelector.select(config, 1.0, 0.0, 0.5, 20, null, loads, loads, null, open(20), 0, many, null);
        assertEquals(20, moves, "all twenty lower the difference from 1.0 to 0.6, by more than the minimum gain");
        config.maxMovesPerExchange = 1;
        assertEquals(0, VmSelector.select(config, 1.0, 0.0, 0.5, 20, null, loads, loads, null, open(20), 1, many, null),
            "one alone is not worth its move");
        assertEquals(0, VmSelector.select(config, 1.0, 0.0, 0.5, 3, null, loads, loads, null, open(3), 0, many, null),
            "three together are not either (0.06 < 0.1): none is made");
    }

    @Test
    void theCeilingKeepsThePeerFromBecomingAHostThatMustShed()
    {
        final double[] loads = { 0.3, 0.02 };
        final BalanceConfig config = config(1);
        config.peerCeilingFraction = 1.0; // the peer may end at most mean + threshold = 0.5 + 0.05
        assertEquals(1, VmSelector.select(config, 1.2, 0.52, 0.5, 2, null, loads, loads, null, open(2), 1, chosen, null));
        assertEquals(1, chosen[0], "0.3 is nearest half the difference but would leave the peer at 0.82");
        config.peerCeilingFraction = Double.POSITIVE_INFINITY;
        assertEquals(1, VmSelector.select(config, 1.2, 0.52, 0.5, 2, null, loads, loads, null, open(2), 1, chosen, null));
        assertEquals(0, chosen[0], "without a ceiling, the VM nearest half");
    }

    @Test
    void aPeerAtOrBelowTheMeanTakesOneVmOverTheCeilingButNoMore()
    {
        final double[] loads = { 0.9, 0.3, 0.3 };
        final BalanceConfig config = config(0);
        config.peerCeilingFraction = 1.0;
        // a VM larger than the room is placed only alone: it goes to a peer at the mean, and nothing after it
        final int moves = VmSelector.select(config, 3.0, 0.5, 0.5, 3, null, loads, loads, null, open(3), 0, chosen, null);
        assertEquals(1, moves);
        assertEquals(0, chosen[0]);
    }

    @Test
    void aDecisionNamesSixteenRejectionsAndCountsTheRest()
    {
        final int n = 40;
        final double[] loads = new double[n];
        Arrays.fill(loads, 0.01);
        loads[30] = 0.4; // the one nearest half the difference (0.4)
        final long[] ids = new long[n];
        for (int i = 0; i < n; i++)
        {
            ids[i] = 100 + i;
        }
        final BalanceDecision record = new BalanceDecision(0, 1, 1.0, 0.2, 0.05, 0.5);
        final int[] picked = new int[n];
        assertEquals(1, VmSelector.select(config(1), 1.0, 0.2, 0.5, n, ids, loads, loads, null, open(n), 1, picked, record));
        assertEquals(30, picked[0]);
        assertEquals(BalanceDecision.LISTED_REJECTIONS, record.rejected().size());
        assertEquals(n - 1 - BalanceDecision.LISTED_REJECTIONS, record.rejectedUnlisted(), "the chosen one is no rejection");
        assertTrue(record.toString().endsWith(" and 23 more"), record.toString());
    }

    @Test
    void checkingEachRoundsChoiceChoosesWhatBlockingEveryRefusedCandidateFirstChooses()
    {
        int checks = 0;
        int candidates = 0;
        int moved = 0;
        for (long seed = 1; seed <= 2_000; seed++)
        {
            final java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
            final int n = 1 + random.nextInt(40);
            final double[] onSource = new double[n];
            final double[] onPeer = new double[n];
            final double[] volatility = new double[n];
            final boolean[] refuses = new boolean[n];
            final double refusing = random.nextDouble();
            final Rejection[] upFront = open(n);
            final Rejection[] checked = open(n);
            for (int i = 0; i < n; i++)
            {
                onSource[i] = random.nextInt(4) == 0 ? 0.1 : random.nextDouble() * 0.5; // ties too
                onPeer[i] = onSource[i] * (random.nextBoolean() ? 1.0 : 0.5 + random.nextDouble());
                volatility[i] = random.nextDouble() * 0.1;
                refuses[i] = random.nextDouble() < refusing;
                upFront[i] = random.nextInt(10) == 0 ? Rejection.PINNED : Rejection.NONE;
                checked[i] = upFront[i];
                upFront[i] = upFront[i] == Rejection.NONE && refuses[i] ? Rejection.RULE : upFront[i];
            }
            final BalanceConfig config = config(random.nextInt(4));
            config.minGainFraction = random.nextBoolean() ? 0.0 : 0.1;
            config.capAtMean = random.nextBoolean();
            config.peerCeilingFraction = random.nextBoolean() ? Double.POSITIVE_INFINITY : 1.0;
            config.stabilityWeight = random.nextBoolean() ? 0.0 : 1.0;
            final double[] stable = config.stabilityWeight == 0.0 ? null : volatility;
            final double source = 1.0 + random.nextDouble();
            final double peer = random.nextDouble();
            final double mean = (source + peer) / 2;
            final int[] expected = new int[n];
            final int[] actual = new int[n];
            final int[] asked = new int[1];
            final int want = VmSelector.select(config, source, peer, mean, n, null, onSource, onPeer, stable, upFront,
                config.maxMovesPerExchange, expected, null);
            final int got = VmSelector.select(config, source, peer, mean, n, null, onSource, onPeer, stable, checked,
                config.maxMovesPerExchange, actual, null, i ->
                {
                    asked[0]++;
                    return refuses[i];
                }, new double[n]);
            assertEquals(want, got, "seed " + seed);
            assertArrayEquals(Arrays.copyOf(expected, want), Arrays.copyOf(actual, got), "seed " + seed);
            for (int i = 0; i < n; i++)
            {
                assertTrue(checked[i] != Rejection.RULE || refuses[i], "seed " + seed + ": only a refused one is RULE");
            }
            checks += asked[0];
            candidates += n;
            moved += got;
        }
        assertTrue(moved > 1_000, "the selections moved VMs: " + moved);
        assertTrue(checks < candidates / 2, checks + " checks of " + candidates + " candidates");
    }
}
