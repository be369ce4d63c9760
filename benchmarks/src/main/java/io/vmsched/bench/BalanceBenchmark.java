package io.vmsched.bench;

import io.vmsched.balance.BalanceConfig;
import io.vmsched.balance.PeerSelector;
import io.vmsched.balance.Rejection;
import io.vmsched.balance.VmSelector;
import io.vmsched.sim.SimulationResult;
import io.vmsched.sim.Simulator;
import io.vmsched.sim.SyntheticWorkload;
import io.vmsched.sim.Workload;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The balancer's cost:
 * <ul>
 *     <li>{@code exchange}: one host's decision, peer pick plus the VM nearest half the difference
 *     among its {@code vmsPerHost} candidates (the per-exchange work a host agent does each period);</li>
 *     <li>{@code simulateStep}: one whole simulator step of 10,000 hosts and 200,000 VMs (every host
 *     performs one exchange), in milliseconds;</li>
 *     <li>{@code baselineNearestScan}: the same peer pick and one bare scan for the load nearest half
 *     the difference, with none of the selector's guards, gate or record: the floor the selector's
 *     cost is measured against.</li>
 * </ul>
 * Run: {@code java -jar benchmarks/target/benchmarks.jar BalanceBenchmark -prof gc}.
 */
@Fork(2)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 10, time = 1)
public class BalanceBenchmark
{
    /** One host's candidates and a cluster's loads. */
    @State(Scope.Thread)
    public static class Exchange
    {
        @Param({ "20", "200" })
        int vmsPerHost;

        final BalanceConfig config = new BalanceConfig();
        final PeerSelector peers = new PeerSelector(1);
        double[] hostLoads;
        double[] onSource;
        double[] onPeer;
        Rejection[] blocked;
        int[] chosen;

        @Setup(Level.Trial)
        public void setup()
        {
            final SplittableRandom random = new SplittableRandom(3);
            hostLoads = new double[10_000];
            for (int i = 0; i < hostLoads.length; i++)
            {
                hostLoads[i] = 0.5 + 0.3 * random.nextDouble();
            }
            onSource = new double[vmsPerHost];
            onPeer = new double[vmsPerHost];
            for (int i = 0; i < vmsPerHost; i++)
            {
                onSource[i] = 1.0 / vmsPerHost * 2 * random.nextDouble();
                onPeer[i] = onSource[i];
            }
            blocked = new Rejection[vmsPerHost];
            chosen = new int[vmsPerHost];
            config.maxMovesPerExchange = 1;
        }
    }

    /** A 10,000-host, 200,000-VM simulation to step through. */
    @State(Scope.Benchmark)
    public static class Cluster
    {
        Simulator simulator;
        Workload workload;
        Simulator.Config config;

        @Setup(Level.Trial)
        public void workload()
        {
            workload = SyntheticWorkload.staticLoads(200_000, "lognormal", 1);
            config = new Simulator.Config();
            config.hosts = 10_000;
            config.steps = 1;
        }

        @Setup(Level.Invocation)
        public void simulator()
        {
            // built outside the measurement: the benchmark times the step, not the set-up
            simulator = new Simulator(config, workload, Simulator.placement("random", workload.vms(), config.hosts, 1));
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public int exchange(final Exchange state)
    {
        final int peer = state.peers.pick(7, state.hostLoads.length);
        Arrays.fill(state.blocked, Rejection.NONE);
        return VmSelector.select(state.config, 1.0, state.hostLoads[peer], 0.65, state.vmsPerHost, null,
            state.onSource, state.onPeer, null, state.blocked, 1, state.chosen, null);
    }

    @Benchmark
    @BenchmarkMode(Mode.AverageTime)
    @OutputTimeUnit(TimeUnit.NANOSECONDS)
    public int baselineNearestScan(final Exchange state)
    {
        final int peer = state.peers.pick(7, state.hostLoads.length);
        final double half = (1.0 - state.hostLoads[peer]) / 2;
        int best = -1;
        double bestDistance = Double.POSITIVE_INFINITY;
        for (int i = 0; i < state.vmsPerHost; i++)
        {
            final double distance = Math.abs(state.onSource[i] - half);
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = i;
            }
        }
        return best;
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 3)
    @Measurement(iterations = 10)
    public SimulationResult simulateStep(final Cluster state)
    {
        // one step from a random placement: sample usage, one exchange per host, the CV
        return state.simulator.run(null);
    }
}
