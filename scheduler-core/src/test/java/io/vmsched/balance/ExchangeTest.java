package io.vmsched.balance;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ExchangeTest
{
    /** Host 0 carries 30 VMs of 0.1, hosts 1 to 8 nothing: a pile-up. */
    private static ArrayHostView pileUp()
    {
        final ArrayHostView view = new ArrayHostView(0, 3.0, 0, 0, 0, 0, 0, 0, 0, 0);
        for (int v = 0; v < 30; v++)
        {
            view.vm(v, 0.1);
        }
        return view;
    }

    private static BalanceConfig pileUpSettings(final boolean scatter)
    {
        final BalanceConfig config = new BalanceConfig();
        config.peerChoices = BalanceConfig.MAX_CONTACTS;
        config.maxMovesPerExchange = 0;
        config.thresholdFraction = 0.25;
        config.minGainFraction = 0.10;
        config.shedOnlyAboveMean = true;
        config.peerCeilingFraction = 1.0;
        config.scatter = scatter;
        return config.validate();
    }

    /** Load sent to each peer by one exchange of host 0. */
    private static Map<Integer, Double> run(final BalanceConfig config, final long seed)
    {
        final Map<Integer, Double> sent = new HashMap<>();
        final Exchange exchange = new Exchange(config, 1, seed, false);
        exchange.mean().start(3.0, 3.0 / 9);
        exchange.run(pileUp(), 100, new Exchange.Actions()
        {
            @Override
            public double shareMean(final int peer, final double estimate)
            {
                return Double.NaN;
            }

            @Override
            public void migrate(final long vmId, final int vm, final int peer, final double onSource, final double onPeer)
            {
                sent.merge(peer, onPeer, Double::sum);
            }

            @Override
            public void decided(final BalanceDecision decision, final int moves, final long firstVm)
            {
            }
        });
        return sent;
    }

    @Test
    void aPiledUpHostFillsSeveralPeersInOneTurnEachNoFurtherThanTheCeiling()
    {
        final double ceiling = 3.0 / 9 * (1 + 0.25) + 1e-9; // mean + one threshold
        for (long seed = 1; seed <= 20; seed++)
        {
            final Map<Integer, Double> scattered = run(pileUpSettings(true), seed);
            assertTrue(scattered.size() >= 2, "seed " + seed + ": 8 picks of 8 empty hosts reach several: " + scattered);
            scattered.forEach((peer, load) -> assertTrue(load <= ceiling, "peer " + peer + " got " + load));
            final Map<Integer, Double> single = run(pileUpSettings(false), seed);
            assertEquals(1, single.size(), "without scatter, only the least loaded contact: " + single);
            assertTrue(single.values().iterator().next() <= ceiling);
        }
    }

    @Test
    void aClosedHostIsNoPeerHoweverLight()
    {
        // host 0 piled up; hosts 1 and 2 empty, host 1 closed (draining): every exchange pairs with host 2
        for (final int choices : new int[]{ 1, BalanceConfig.MAX_CONTACTS })
        {
            final BalanceConfig config = new BalanceConfig();
            config.peerChoices = choices;
            config.thresholdFraction = 0.25;
            config.validate();
            final Map<Integer, Double> sent = new HashMap<>();
            final int[] shared = new int[3];
            for (long seed = 1; seed <= 50; seed++)
            {
                final ArrayHostView view = new ArrayHostView(0, 3.0, 0.0, 0.0);
                for (long vm = 1; vm <= 6; vm++)
                {
                    view.vm(vm, 0.5);
                }
                final Exchange exchange = new Exchange(config, 1, seed, false).rule(new PlacementRule()
                {
                    @Override
                    public String refuses(final HostView v, final int vm, final int peer)
                    {
                        return peer == 1 ? "draining" : null;
                    }

                    @Override
                    public boolean closed(final int host)
                    {
                        return host == 1;
                    }
                });
                exchange.mean().start(3.0, 1.0);
                exchange.run(view, 100, new Exchange.Actions()
                {
                    @Override
                    public double shareMean(final int peer, final double estimate)
                    {
                        shared[peer]++;
                        return Double.NaN;
                    }

                    @Override
                    public void migrate(final long vmId, final int vm, final int peer, final double onSource, final double onPeer)
                    {
                        sent.merge(peer, onPeer, Double::sum);
                    }

                    @Override
                    public void decided(final BalanceDecision decision, final int moves, final long firstVm)
                    {
                    }
                });
            }
            assertEquals(0, shared[1], choices + " choices: the closed host is never contacted");
            assertFalse(sent.containsKey(1), choices + " choices: " + sent);
            assertTrue(sent.getOrDefault(2, 0.0) > 0, choices + " choices: the open empty host gets load: " + sent);
        }
    }

    /**
     * A VM still migrating (a live migration runs for seconds, the VM measured on its source all along) counts on
     * its target: the next exchange neither sheds its load a second time nor piles more on the same target. Each
     * case also runs with the VM not migrating, where the same loads do move a VM: the accounting, not the
     * loads, stops it.
     */
    @Test
    void aVmInFlightCountsOnItsTargetSoASlowMigrationIsNotShedTwice()
    {
        final BalanceConfig config = new BalanceConfig();
        config.peerChoices = 1;
        config.thresholdFraction = 0.25;
        config.validate();
        // host 0 at 1.0 with a VM of 0.3 on its way to host 1 (0.4): once it lands both are at 0.7
        assertEquals(Map.of(), shedOnce(config, new double[]{ 1.0, 0.4 }, 1), "in flight to the peer");
        assertFalse(shedOnce(config, new double[]{ 1.0, 0.4 }, -1).isEmpty(), "the same loads, nothing in flight");
        // the same VM on its way to host 2: host 0 is at 0.7 once it lands, no more than host 1's 0.6 + a threshold
        for (long seed = 1; seed <= 20; seed++)
        {
            assertEquals(Map.of(), shedOnce(config, new double[]{ 1.0, 0.6, 0.7 }, 2, seed), "seed " + seed);
        }
        boolean moved = false;
        for (long seed = 1; seed <= 20 && !moved; seed++)
        {
            moved = !shedOnce(config, new double[]{ 1.0, 0.6, 0.7 }, -1, seed).isEmpty();
        }
        assertTrue(moved, "the same loads, nothing in flight: host 0 sheds to host 1");
    }

    private static Map<Integer, Double> shedOnce(final BalanceConfig config, final double[] loads, final int inFlightTo)
    {
        return shedOnce(config, loads, inFlightTo, 1);
    }

    /** One exchange of host 0 (VMs of 0.3, 0.2, 0.2, 0.3; the first migrating to {@code inFlightTo}, -1: none). */
    private static Map<Integer, Double> shedOnce(final BalanceConfig config, final double[] loads, final int inFlightTo,
        final long seed)
    {
        final ArrayHostView view = new ArrayHostView(0, loads).vm(1, 0.3).vm(2, 0.2).vm(3, 0.2).vm(4, 0.3);
        view.migratingTo[0] = inFlightTo;
        view.inFlight = inFlightTo >= 0 ? 1 : 0;
        double sum = 0;
        for (final double load : loads)
        {
            sum += load;
        }
        final Exchange exchange = new Exchange(config, 1, seed, false);
        exchange.mean().start(loads[0], sum / loads.length);
        final Map<Integer, Double> sent = new HashMap<>();
        exchange.run(view, 100, new Exchange.Actions()
        {
            @Override
            public double shareMean(final int peer, final double estimate)
            {
                return Double.NaN;
            }

            @Override
            public void migrate(final long vmId, final int vm, final int peer, final double onSource, final double onPeer)
            {
                assertFalse(inFlightTo >= 0 && vmId == 1L, "a VM in flight is never chosen again");
                sent.merge(peer, onPeer, Double::sum);
            }

            @Override
            public void decided(final BalanceDecision decision, final int moves, final long firstVm)
            {
            }
        });
        return sent;
    }

    @Test
    void aMigrationIsNotAChangeOfTheMean()
    {
        final MeanEstimate estimate = new MeanEstimate();
        estimate.start(3.0, 1.0);
        estimate.moved(-1.0); // a VM of 1.0 left
        estimate.observe(2.0);
        assertEquals(1.0, estimate.estimate(), 1e-12, "the load fell by what left: the mean stays");
        estimate.observe(2.5); // the workload grew
        assertEquals(1.5, estimate.estimate(), 1e-12);
        final MeanEstimate counted = new MeanEstimate();
        counted.start(3.0, 1.0);
        counted.observe(2.0);
        assertEquals(0.0, counted.estimate(), 1e-12, "told nothing, a host takes the fall for a change of the mean");
    }

    @Test
    void averagingKeepsTheEstimatesSumWhateverChangesInBetween()
    {
        final MeanEstimate source = new MeanEstimate();
        final MeanEstimate peer = new MeanEstimate();
        source.start(4.0, 4.0);
        peer.start(0.0, 0.0);
        final double sent = source.estimate();
        source.observe(5.0); // the source's load grew while its figure was on the way: +1
        peer.start(0.0, 2.0); // and the peer averaged with a third host meanwhile: it now says 2
        final double answer = peer.receive(sent);
        assertEquals(3.0, peer.estimate(), 1e-12, "the mean of what it had and what came");
        source.adjust(answer);
        assertEquals(4.0, source.estimate(), 1e-12, "its own change kept, the averaging's change added");
        assertEquals(5.0 + 2.0, source.estimate() + peer.estimate(), 1e-12, "the two changes add to zero");
        final MeanEstimate fresh = new MeanEstimate();
        assertEquals(0.0, fresh.receive(3.0), 1e-12, "a host that has not observed its load yet takes nothing: both keep theirs");
        fresh.observe(1.0);
        assertEquals(1.0, fresh.estimate(), 1e-12, "its first figure is its own load");
    }

    @Test
    void aHostJustAddedDoesNotCountWhatMigrationsBroughtItBeforeItsFirstObservation()
    {
        // host 0 carries 2.0 and knows the mean of the one-host cluster; host 1 joins empty
        final MeanEstimate old = new MeanEstimate();
        old.start(2.0, 2.0);
        final MeanEstimate added = new MeanEstimate();
        old.moved(-0.5); // a VM of 0.5 moves to the new host before the new host's first turn
        added.moved(0.5);
        old.observe(1.5);
        added.observe(0.5);
        assertEquals(2.0, old.estimate() + added.estimate(), 1e-12, "the estimates still sum to the load: " +
            old.estimate() + " + " + added.estimate());
        final double answer = added.receive(old.estimate());
        old.adjust(answer);
        assertEquals(1.0, old.estimate(), 1e-12, "averaged: each says the mean of the two hosts");
        assertEquals(1.0, added.estimate(), 1e-12);
    }

    /** Moves one exchange of host 0 makes under {@code rule}, as "vm->peer" lines; {@code checks} counts rule calls. */
    private static java.util.List<String> movesUnder(final boolean record, final long seed, final int moves,
        final PlacementRule rule, final int[] checks)
    {
        final java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        final double[] loads = new double[9];
        loads[0] = 3.0;
        for (int h = 1; h < loads.length; h++)
        {
            loads[h] = random.nextDouble() * 0.5;
        }
        final ArrayHostView view = new ArrayHostView(0, loads);
        for (int v = 0; v < 30; v++)
        {
            view.vm(v, 0.02 + random.nextDouble() * 0.2);
        }
        final BalanceConfig config = new BalanceConfig();
        config.maxMovesPerExchange = moves;
        config.thresholdFraction = 0.1;
        config.validate();
        final java.util.List<String> made = new java.util.ArrayList<>();
        final Exchange exchange = new Exchange(config, 1, seed, record).rule((v, vm, peer) ->
        {
            checks[0]++;
            return rule.refuses(v, vm, peer);
        });
        exchange.mean().start(loads[0], java.util.Arrays.stream(loads).average().orElseThrow());
        exchange.run(view, 100, new Exchange.Actions()
        {
            @Override
            public double shareMean(final int peer, final double estimate)
            {
                return Double.NaN;
            }

            @Override
            public void migrate(final long vmId, final int vm, final int peer, final double onSource, final double onPeer)
            {
                made.add(vmId + "->" + peer);
            }

            @Override
            public void decided(final BalanceDecision decision, final int count, final long firstVm)
            {
            }
        });
        return made;
    }

    @Test
    void rulesCheckedOnTheChoicesOnlyPickWhatCheckingEveryCandidatePicks()
    {
        // refuses most VMs on some peers: the lazy check must retry, then fall back to checking all
        final PlacementRule rule = (view, vm, peer) -> (view.vmId(vm) * 7 + peer) % 4 != 0 ? "r" : null;
        int lazyChecks = 0;
        int eagerChecks = 0;
        int movesMade = 0;
        for (long seed = 1; seed <= 200; seed++)
        {
            for (final int moves : new int[]{ 1, 3 })
            {
                final int[] lazy = new int[1];
                final int[] eager = new int[1];
                final java.util.List<String> checkedOnChoices = movesUnder(false, seed, moves, rule, lazy);
                final java.util.List<String> checkedAll = movesUnder(true, seed, moves, rule, eager);
                assertEquals(checkedAll, checkedOnChoices, "seed " + seed + ", " + moves + " moves");
                checkedOnChoices.forEach(m -> assertFalse(m.isEmpty()));
                lazyChecks += lazy[0];
                eagerChecks += eager[0];
                movesMade += checkedOnChoices.size();
            }
        }
        assertTrue(movesMade > 100, "the exchanges moved VMs: " + movesMade);
        assertTrue(lazyChecks < eagerChecks, lazyChecks + " checks on the choices, " + eagerChecks + " on all");
        // and a rule refusing nothing costs one check per move
        final int[] none = new int[1];
        final java.util.List<String> free = movesUnder(false, 5, 1, PlacementRule.NONE, none);
        assertEquals(free.size(), none[0]);
    }

    /** Host 0's 30 VMs (ids in a seeded order) under random rules; the moves one exchange makes under {@code rule}. */
    private static java.util.List<String> movesUnderRules(final boolean record, final long seed, final int moves,
        final java.util.function.Function<io.vmsched.placement.Constraints.Locator, PlacementRule> rule)
    {
        final java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        final double[] loads = new double[9];
        loads[0] = 3.0;
        for (int h = 1; h < loads.length; h++)
        {
            loads[h] = random.nextDouble() * 0.5;
        }
        final ArrayHostView view = new ArrayHostView(0, loads);
        final long[] order = java.util.stream.LongStream.range(0, 30).toArray();
        for (int i = order.length - 1; i > 0; i--)
        {
            final int j = random.nextInt(i + 1);
            final long t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (final long v : order)
        {
            view.vm(v, 0.02 + random.nextDouble() * 0.2);
        }
        final int[] elsewhere = new int[20]; // VMs 1000.. on the other hosts
        for (int k = 0; k < elsewhere.length; k++)
        {
            elsewhere[k] = 1 + random.nextInt(8);
        }
        final io.vmsched.placement.Constraints.Locator where = vm -> vm < 30 ? 0 : elsewhere[(int)(vm - 1000)];
        final BalanceConfig config = new BalanceConfig();
        config.maxMovesPerExchange = moves;
        config.thresholdFraction = 0.1;
        config.validate();
        final java.util.List<String> made = new java.util.ArrayList<>();
        final Exchange exchange = new Exchange(config, 1, seed, record).rule(rule.apply(where));
        exchange.mean().start(loads[0], java.util.Arrays.stream(loads).average().orElseThrow());
        exchange.run(view, 100, new Exchange.Actions()
        {
            @Override
            public double shareMean(final int peer, final double estimate)
            {
                return Double.NaN;
            }

            @Override
            public void migrate(final long vmId, final int vm, final int peer, final double onSource, final double onPeer)
            {
                made.add(vmId + "->" + peer);
            }

            @Override
            public void decided(final BalanceDecision decision, final int count, final long firstVm)
            {
            }
        });
        return made;
    }

    /** Random rules on host 0's VMs: labels half or a quarter of the hosts carry, pairs here and elsewhere. */
    private static io.vmsched.placement.Constraints randomRules(final long seed)
    {
        final java.util.SplittableRandom random = new java.util.SplittableRandom(seed * 31 + 7);
        final io.vmsched.placement.Placement placement = new io.vmsched.placement.Placement();
        for (int h = 0; h < 9; h++)
        {
            placement.hostLabels(h, (h & 1) == 0 ? java.util.Set.of("a") : (h & 3) == 1 ? java.util.Set.of("b") :
                java.util.Set.of());
        }
        if (seed % 3 == 0)
        {
            // every VM kept on hosts labelled a: a peer without it refuses them all (a screened exchange)
            add(placement, io.vmsched.placement.Rule.hostLabel("all-on-a", io.vmsched.placement.Rule.Kind.ON_LABEL,
                true, "a", java.util.stream.LongStream.range(0, 30).toArray()));
        }
        final int count = random.nextInt(60);
        for (int r = 0; r < count; r++)
        {
            final long here = random.nextInt(30);
            final boolean hard = random.nextBoolean();
            switch (random.nextInt(5))
            {
                case 0 -> add(placement, io.vmsched.placement.Rule.antiAffinity("apart" + r, hard, here,
                    1000 + random.nextInt(20)));
                case 1 -> add(placement, io.vmsched.placement.Rule.antiAffinity("spread" + r, false, here,
                    (here + 1 + random.nextInt(29)) % 30, 1000 + random.nextInt(20)));
                case 2 -> add(placement, io.vmsched.placement.Rule.hostLabel("on" + r,
                    io.vmsched.placement.Rule.Kind.ON_LABEL, hard, random.nextBoolean() ? "a" : "b", here));
                case 3 -> add(placement, io.vmsched.placement.Rule.hostLabel("off" + r,
                    io.vmsched.placement.Rule.Kind.OFF_LABEL, hard, random.nextBoolean() ? "a" : "b", here));
                default -> add(placement, io.vmsched.placement.Rule.affinity("with" + r, hard, here,
                    random.nextBoolean() ? (here + 1 + random.nextInt(29)) % 30 : 1000 + random.nextInt(20)));
            }
        }
        return placement.constraints();
    }

    /** Add a rule unless the placement refuses it (it contradicts one drawn before). */
    private static void add(final io.vmsched.placement.Placement placement, final io.vmsched.placement.Rule rule)
    {
        try
        {
            placement.addRule(rule);
        }
        catch (final IllegalArgumentException contradicts)
        {
            // drawn at random: left out
        }
    }

    @Test
    void anExchangeUnderPlacementRulesMovesWhatCheckingEveryCandidateFirstMoves()
    {
        // one guard for every exchange below: its slots see other VMs in them and other rules each time
        final io.vmsched.placement.Constraints[] inForce = { io.vmsched.placement.Constraints.NONE };
        final io.vmsched.placement.Constraints.Locator[] at = new io.vmsched.placement.Constraints.Locator[1];
        final io.vmsched.placement.ExchangeGuard shared = new io.vmsched.placement.ExchangeGuard(() -> inForce[0],
            vm -> at[0].hostOf(vm), null);
        int movesMade = 0;
        int refusedAll = 0;
        for (long seed = 1; seed <= 300; seed++)
        {
            inForce[0] = randomRules(seed);
            for (final int moves : new int[]{ 1, 3, 0 })
            {
                final long s = seed;
                final java.util.List<String> eager = movesUnderRules(true, seed, moves,
                    where -> new io.vmsched.placement.ExchangeGuard(() -> inForce[0], where, null));
                final java.util.List<String> plain = movesUnderRules(false, seed, moves, where ->
                {
                    final io.vmsched.placement.ExchangeGuard guard =
                        new io.vmsched.placement.ExchangeGuard(() -> inForce[0], where, null);
                    return guard::refuses; // checked on the choices, nothing screened
                });
                final java.util.List<String> lazy = movesUnderRules(false, seed, moves, where ->
                {
                    at[0] = where;
                    return shared;
                });
                assertEquals(eager, plain, "seed " + s + ", " + moves + " moves, rules " + inForce[0]);
                assertEquals(eager, lazy, "seed " + s + ", " + moves + " moves, rules " + inForce[0]);
                movesMade += lazy.size();
                refusedAll += lazy.isEmpty() ? 1 : 0;
            }
        }
        assertTrue(movesMade > 300 && refusedAll > 50, movesMade + " moves, " + refusedAll + " exchanges without one");
    }
}
