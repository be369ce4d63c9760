package io.vmsched.bench;

import io.vmsched.metrics.HostSample;
import io.vmsched.metrics.HostSampler;
import io.vmsched.metrics.ProcessSample;
import io.vmsched.metrics.ProcessSampler;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;

/**
 * What one OSHI sample costs, on the metrics agent's thread (never a dispatch thread):
 * {@code hostSample} (CPU ticks, memory, every disk and network interface, load average) and
 * {@code processSample} (one process's CPU time, resident memory, storage bytes: this JVM's own),
 * against {@code baselineOperatingSystemMXBean}, the JDK's own reading of this process's CPU time.
 * OSHI caches the CPU ticks for 300 ms, so {@code hostSample} in a tight loop mostly reads its cache;
 * {@code hostSampleCold} waits 350 ms (outside the timing) before each sample, as the agent's
 * once-a-second sample finds it.
 * Run: {@code java -jar benchmarks/target/benchmarks.jar SamplerBenchmark -prof gc}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class SamplerBenchmark
{
    /** The samplers, made once (OSHI's set-up costs hundreds of ms). */
    @State(Scope.Thread)
    public static class Samplers
    {
        HostSampler host;
        ProcessSampler process;
        final HostSample hostSample = new HostSample();
        final ProcessSample processSample = new ProcessSample();
        final int pid = (int)ProcessHandle.current().pid();
        com.sun.management.OperatingSystemMXBean os;

        @Setup(Level.Trial)
        public void create()
        {
            host = new HostSampler();
            process = new ProcessSampler();
            os = (com.sun.management.OperatingSystemMXBean)ManagementFactory.getOperatingSystemMXBean();
        }
    }

    /** A host sampler whose caches have expired before each sample. */
    @State(Scope.Thread)
    public static class ColdHost
    {
        HostSampler host;
        final HostSample hostSample = new HostSample();

        @Setup(Level.Trial)
        public void create()
        {
            host = new HostSampler();
        }

        @Setup(Level.Invocation)
        public void letCachesExpire() throws InterruptedException
        {
            Thread.sleep(350);
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @Warmup(iterations = 3, batchSize = 1)
    @Measurement(iterations = 20, batchSize = 1)
    public HostSample hostSampleCold(final ColdHost s)
    {
        return s.host.sample(s.hostSample);
    }

    @Benchmark
    public HostSample hostSample(final Samplers s)
    {
        return s.host.sample(s.hostSample);
    }

    @Benchmark
    public boolean processSample(final Samplers s)
    {
        return s.process.sample(s.pid, s.processSample);
    }

    @Benchmark
    public long baselineOperatingSystemMXBean(final Samplers s)
    {
        return s.os.getProcessCpuTime();
    }
}
