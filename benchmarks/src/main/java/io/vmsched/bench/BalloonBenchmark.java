package io.vmsched.bench;

import io.vmsched.balloon.Balloon;
import io.vmsched.balloon.BalloonRequest;
import io.vmsched.balloon.BalloonResult;
import io.vmsched.cluster.Cluster;
import io.vmsched.cluster.ClusterConfig;
import io.vmsched.dispatch.Guest;
import io.vmsched.dispatch.SliceContext;
import org.agrona.concurrent.YieldingIdleStrategy;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The round trip of a balloon request to an in-JVM guest, as JMH sample-time distributions:
 * <ul>
 *     <li>{@code roundTrip}: {@code Cluster.balloon} to the completed future: the request through the host's inbox,
 *     BALLOON_REQUESTED journaled, posted to the guest, {@code Balloon.adjust} on the guest's next slice, the answer
 *     collected by the agent, BALLOON_RESULT journaled, the future completed (the caller waits in
 *     {@code get()}). With a guest that idles between slices ({@code busy=false}: its worker backs off and parks,
 *     as an idle host's does) and one that never idles ({@code busy=true}: a worker always in a slice);</li>
 *     <li>{@code baselineAdjust}: the same guest's {@code Balloon.adjust} called directly, a plain method call.</li>
 * </ul>
 * The host's agent yields when idle, so the figure is the mechanism's, not the agent's park.
 * Run: {@code java -jar benchmarks/target/benchmarks.jar BalloonBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class BalloonBenchmark
{
    /** A guest with a trivial balloon: it holds whatever it is asked. */
    public static final class SizeGuest implements Guest
    {
        private long bytes;
        private boolean busy;
        private final Balloon balloon = request ->
        {
            bytes = request.memoryBytes();
            return new BalloonResult(request.requestId(), request.vmId(), BalloonResult.Outcome.MET, bytes, -1, "");
        };

        /** For the registry. */
        public SizeGuest()
        {
        }

        SizeGuest(final boolean busy)
        {
            this.busy = busy;
        }

        @Override
        public void runSlice(final SliceContext context)
        {
            context.reportMemory(bytes);
            if (!busy)
            {
                context.idle();
            }
        }

        @Override
        public Balloon balloon()
        {
            return balloon;
        }

        @Override
        public byte[] snapshot()
        {
            return new byte[]{ (byte)(busy ? 1 : 0) };
        }

        @Override
        public void restore(final byte[] state)
        {
            busy = state.length == 1 && state[0] == 1;
        }
    }

    /** One host and one guest. */
    @State(Scope.Thread)
    public static class Host
    {
        @Param({ "false", "true" })
        boolean busy;

        Path dir;
        Cluster cluster;
        long target = 1 << 20;

        @Setup(Level.Trial)
        public void start() throws IOException
        {
            dir = Files.createTempDirectory("vmsched-bench-balloon");
            final ClusterConfig config = ClusterConfig.of(1, dir);
            config.host.balancing = false;
            config.host.agentIdleStrategy = YieldingIdleStrategy::new;
            config.host.workers = 1;
            config.guests.register(SizeGuest.class.getName(), SizeGuest::new);
            cluster = Cluster.start(config);
            cluster.admit(0, 1, 1, new SizeGuest(busy));
            while (cluster.host(0).vmCount() != 1)
            {
                LockSupport.parkNanos(100_000);
            }
        }

        @TearDown(Level.Trial)
        public void stop()
        {
            cluster.close();
            HandoffBenchmark.delete(dir);
        }
    }

    /** The guest alone, for the plain call. */
    @State(Scope.Thread)
    public static class Direct
    {
        final Balloon balloon = new SizeGuest(false).balloon();
        long requestId;
    }

    @Benchmark
    public BalloonResult roundTrip(final Host host) throws InterruptedException, ExecutionException
    {
        host.target ^= 3 << 20; // 1 MiB and 2 MiB in turn: a change each time
        final BalloonResult result = host.cluster.balloon(1, host.target, BalloonRequest.UNCHANGED).get();
        if (result.outcome() != BalloonResult.Outcome.MET)
        {
            throw new IllegalStateException("a benchmark balloon request ended " + result);
        }
        return result;
    }

    @Benchmark
    public BalloonResult baselineAdjust(final Direct direct)
    {
        return direct.balloon.adjust(new BalloonRequest(++direct.requestId, 1, 1 << 20, BalloonRequest.UNCHANGED, 0));
    }
}
