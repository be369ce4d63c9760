package io.vmsched.cluster;

import io.vmsched.balance.BalanceConfig;
import io.vmsched.balance.BalanceDecision;
import io.vmsched.balance.Exchange;
import io.vmsched.journal.RecordType;
import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadModel;
import io.vmsched.load.LoadWeights;
import io.vmsched.sim.SimulatedHosts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The runtime's exchange path ({@link HostBalancer} over a host's VM table, published peer loads and
 * capacities, journaling its decisions and starting real handoffs) and the simulator's
 * ({@link SimulatedHosts} seen as a host) are fed the same small cluster: three heterogeneous hosts,
 * a source holding admitted VMs, a pinned one, one already migrating, ones that arrived recently from
 * each peer and one long ago. With the same seed, every exchange decides the same: the same peer, the
 * same moves, the same rejection of every candidate for the same reason.
 */
class ExchangeParityTest
{
    private static final long SEED = 42;
    private static final long PERIOD_NS = 1_000_000_000L;
    private static final long NOW_STEP = 1_000; // both clocks at 1,000 periods
    private static final int VMS = 12;
    private static final double[] CPU = { 0.30, 0.22, 0.18, 0.15, 0.12, 0.10, 0.08, 0.06, 0.05, 0.04, 0.40, 0.20 };

    private static HostConfig hostConfig(final int workers, final double speed)
    {
        final HostConfig config = new HostConfig();
        config.workers = workers;
        config.coreSpeed = speed;
        config.weights = LoadWeights.CPU_ONLY;
        return config;
    }

    @Test
    void theRuntimeAndTheSimulatorDecideAlikeFromTheSameState(@TempDir final Path dir)
    {
        for (final boolean dryRun : new boolean[] { false, true })
        {
            for (final int peerChoices : new int[] { 1, 2 })
            {
                final BalanceConfig balance = new BalanceConfig();
                balance.thresholdFraction = 0.05;
                balance.minGainFraction = 0.01;
                balance.maxMovesPerExchange = 2;
                balance.maxConcurrentPerHost = 0;
                balance.minResidency = 2;
                balance.pingPongGuard = 5;
                balance.peerChoices = peerChoices;
                balance.dryRun = dryRun;
                final List<String> runtime = normalised(runtime(dir.resolve(dryRun + "-" + peerChoices), balance));
                final List<String> simulated = normalised(simulated(balance));
                assertEquals(simulated, runtime, "dry run " + dryRun + ", peer choices " + peerChoices);
                assertTrue(runtime.stream().anyMatch(d -> d.contains("=PINNED")), "the pinned VM was a candidate");
                assertTrue(runtime.stream().anyMatch(d -> d.contains("=MIGRATING")), "the migrating VM was a candidate");
                assertTrue(runtime.stream().anyMatch(d -> d.contains("=RESIDENCY")), "a recent arrival was held");
                assertTrue(runtime.stream().anyMatch(d -> d.contains("=PING_PONG")), "a return to the host left was held");
                assertTrue(runtime.stream().anyMatch(d -> d.contains("; move vm")), "some exchange moved a VM");
            }
        }
    }

    /**
     * The rejected candidates in VM order: a host's table and the simulator's list hold the same VMs
     * in different orders (which only breaks exact ties between candidates).
     */
    private static List<String> normalised(final List<String> decisions)
    {
        final List<String> out = new ArrayList<>();
        for (final String decision : decisions)
        {
            final int at = decision.indexOf("; rejected ");
            if (at < 0)
            {
                out.add(decision);
                continue;
            }
            final String[] rejected = decision.substring(at + "; rejected ".length()).split(" ");
            java.util.Arrays.sort(rejected, java.util.Comparator.comparingLong(r -> Long.parseLong(r.substring(0, r.indexOf('=')))));
            out.add(decision.substring(0, at) + "; rejected " + String.join(" ", rejected));
        }
        return out;
    }

    /** Hosts 0 (2 cores), 1 (1 core at twice the speed), 2 (4 cores at half the speed): the same CPU capacity, other loads. */
    private static final HostConfig[] HOSTS = { hostConfig(2, 1.0), hostConfig(1, 2.0), hostConfig(4, 0.75) };

    private static HostCapacity[] capacities()
    {
        final HostCapacity[] capacities = new HostCapacity[HOSTS.length];
        for (int h = 0; h < HOSTS.length; h++)
        {
            capacities[h] = HOSTS[h].capacity();
        }
        return capacities;
    }

    private static final double[] PEER_LOADS = { Double.NaN, 0.10, 0.05 }; // host 0's is the sum of its VMs

    /** What each VM of host 0 is: admitted, pinned, migrating to host 2, or arrived from host h k periods ago. */
    private static int cameFrom(final int vm)
    {
        return vm == 3 ? 1 : vm == 4 ? 2 : vm == 5 ? 1 : vm == 6 ? 2 : -1;
    }

    private static long periodsAgo(final int vm)
    {
        return vm == 3 ? 1 : vm == 4 ? 3 : vm == 5 ? 3 : vm == 6 ? 40 : 0;
    }

    private static final int PINNED = 1;
    private static final int MIGRATING = 2;

    private static List<String> runtime(final Path dir, final BalanceConfig balance)
    {
        final HostConfig config = hostConfig(2, 1.0);
        config.balance = balance;
        config.seed = SEED;
        config.balancePeriodNs = PERIOD_NS;
        final ClusterView view = new ClusterView(HOSTS.length, capacities(), new ClusterListener()
        {
        });
        final HandoffSidesTest.Captured wire = new HandoffSidesTest.Captured();
        final List<String> decisions = new ArrayList<>();
        try (HandoffSidesTest.Host host = new HandoffSidesTest.Host(0, dir, view, wire, config))
        {
            final LoadModel model = new LoadModel(config.weights);
            final long now = NOW_STEP * PERIOD_NS;
            double load = 0;
            for (int v = 0; v < VMS; v++)
            {
                final HostVm vm;
                if (v == PINNED)
                {
                    vm = host.requests.newVm(v, 1, HostRuntime.EXTERNAL_KIND, new byte[0]);
                    host.vms.add(vm);
                }
                else
                {
                    vm = host.place(v);
                }
                vm.load.program(CPU[v], 0, 0);
                if (cameFrom(v) >= 0)
                {
                    vm.cameFrom = cameFrom(v);
                    vm.arrivedNs = now - periodsAgo(v) * PERIOD_NS;
                }
                load += model.load(vm.load.factors(), config.capacity());
            }
            host.source.start(host.vms.get(MIGRATING), 2, 0, 0, now);
            for (int h = 1; h < HOSTS.length; h++)
            {
                view.publishLoad(h, PEER_LOADS[h]);
            }
            final HostBalancer balancer = new HostBalancer(0, config, view, host.journal, host.vms, host.source,
                new Forwarder(0, HOSTS.length, wire), model, config.capacity());
            for (int i = 0; i < 8; i++)
            {
                balancer.exchange(load, now);
            }
            host.journal.replay((index, record) ->
            {
                if (record.type() == RecordType.DECISION)
                {
                    decisions.add(record.text());
                }
            });
        }
        return decisions;
    }

    private static List<String> simulated(final BalanceConfig balance)
    {
        final HostCapacity[] capacities = capacities();
        final LoadModel model = new LoadModel(LoadWeights.CPU_ONLY);
        final SimulatedHosts state = new SimulatedHosts(model, capacities, VMS + 2, 1);
        // two VMs on the peers carry their loads: the peers' observed loads are the runtime's published ones
        state.place(VMS, 1);
        state.place(VMS + 1, 2);
        state.program(VMS, PEER_LOADS[1] * capacities[1].cpuCapacity(), 0, 0);
        state.program(VMS + 1, PEER_LOADS[2] * capacities[2].cpuCapacity(), 0, 0);
        for (int v = 0; v < VMS; v++)
        {
            state.place(v, cameFrom(v) >= 0 ? cameFrom(v) : 0);
            state.program(v, CPU[v], 0, 0);
            if (v == PINNED)
            {
                state.pin(v);
            }
        }
        for (int v = 0; v < VMS; v++)
        {
            if (cameFrom(v) >= 0)
            {
                state.arrive(v, 0, NOW_STEP - periodsAgo(v));
            }
        }
        state.depart(MIGRATING, 2);
        state.recomputeLoads();
        final Exchange exchange = new Exchange(balance.forHosts(capacities.length), 1, Exchange.seedFor(SEED, 0), true);
        final List<String> decisions = new ArrayList<>();
        final Exchange.Actions actions = new Exchange.Actions()
        {
            @Override
            public double shareMean(final int peer, final double estimate)
            {
                return Double.NaN; // as in the runtime: the answer comes later
            }

            @Override
            public void migrate(final long vmId, final int vm, final int peer, final double onSource, final double onPeer)
            {
                state.depart((int)vmId, peer); // in flight, as the runtime's handoff is
            }

            @Override
            public void decided(final BalanceDecision decision, final int moves, final long firstVm)
            {
                decisions.add(decision.toString());
            }
        };
        for (int i = 0; i < 8; i++)
        {
            exchange.run(state.as(0), NOW_STEP, actions);
        }
        return decisions;
    }
}
