package io.vmsched.sim;

import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadWeights;

import java.util.SplittableRandom;

/**
 * Generated workloads: static VM loads drawn from a distribution, for convergence runs, and
 * generated traces (bursty, diurnal) for tests that must not depend on real trace files.
 */
public final class SyntheticWorkload
{
    private SyntheticWorkload()
    {
    }

    /**
     * Static CPU loads.
     *
     * @param vms          number of VMs.
     * @param distribution {@code uniform} (0-1 cores) or {@code lognormal} (median 0.1 cores, sigma 1).
     * @param seed         seed.
     * @return a one-step workload.
     */
    public static Workload staticLoads(final int vms, final String distribution, final long seed)
    {
        if (vms < 1)
        {
            throw new IllegalArgumentException("--vms must be at least 1, got " + vms);
        }
        final SplittableRandom random = new SplittableRandom(seed);
        final float[][] cpu = new float[vms][1];
        for (int v = 0; v < vms; v++)
        {
            switch (distribution)
            {
                case "uniform": cpu[v][0] = (float)random.nextDouble(); break;
                case "lognormal": cpu[v][0] = (float)(0.1 * Math.exp(gaussian(random))); break;
                default: throw new IllegalArgumentException("unknown --load-dist '" + distribution +
                    "': expected uniform or lognormal");
            }
        }
        return new Workload("synthetic " + distribution, cpu, null, null, LoadWeights.CPU_ONLY,
            new HostCapacity(Traces.PLANETLAB_HOST_CORES, 1, 1, 1));
    }

    /**
     * A generated trace: each VM has a base level, a diurnal swing with its own phase, bursts that
     * last a few steps, and noise; CPU in percent of one core, as PlanetLab files hold.
     *
     * @param vms   number of VMs.
     * @param steps samples per VM.
     * @param seed  seed.
     * @return per VM, per step, integer CPU percentages 0-100.
     */
    public static int[][] diurnalBurstyPercent(final int vms, final int steps, final long seed)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final int[][] trace = new int[vms][steps];
        for (int v = 0; v < vms; v++)
        {
            final double base = 3 + 25 * random.nextDouble() * random.nextDouble();
            final double swing = base * random.nextDouble();
            final double phase = random.nextDouble() * 2 * Math.PI;
            int burst = 0;
            double burstLevel = 0;
            for (int t = 0; t < steps; t++)
            {
                if (burst == 0 && random.nextDouble() < 0.02)
                {
                    burst = 1 + random.nextInt(6);
                    burstLevel = 30 + 60 * random.nextDouble();
                }
                double value = base + swing * Math.sin(2 * Math.PI * t / steps + phase) + 3 * gaussian(random);
                if (burst > 0)
                {
                    value += burstLevel;
                    burst--;
                }
                trace[v][t] = (int)Math.max(0, Math.min(100, Math.round(value)));
            }
        }
        return trace;
    }

    /** The reference host's memory in a generated memory-overcommit trace: 64 GiB. */
    public static final double OVERCOMMIT_HOST_MEMORY = 64.0 * (1L << 30);
    /** The cluster's mean memory load a generated memory-overcommit trace is scaled to: 0.8 of its hosts' memory. */
    public static final double OVERCOMMIT_MEAN_MEMORY = 0.8;
    /** Load weights of a generated memory-overcommit trace: memory-bound (CPU 0.3, I/O 0, memory 0.7). */
    public static final LoadWeights MEMORY_BOUND = new LoadWeights(0.3, 0.0, 0.7);

    /**
     * A generated memory-overcommit trace ({@code --workload memory-overcommit}): memory-bound VMs whose
     * memory demand is, per VM, a size drawn log-normal (median 2 GiB, sigma 0.8), a base share of it
     * (40-90 %), a diurnal swing with its own phase (up to 25 % of the size) and, 1 % of the steps, a
     * growth spell of a few to 30 steps (a job loading data: up to 30 % more); noise 2 % of the size.
     * CPU is light (0.05-0.5 of a 32-core host's reference cores per VM, with noise). The memory is scaled
     * so that the VMs' mean demand is {@link #OVERCOMMIT_MEAN_MEMORY} of {@code hosts} hosts of
     * {@link #OVERCOMMIT_HOST_MEMORY}: placed at random, many hosts run above 85 % of their memory at
     * their peaks, some above 100 % (overcommitted). The weights are {@link #MEMORY_BOUND}.
     *
     * @param vms   VMs, at least 1.
     * @param hosts hosts the memory is scaled for, at least 1.
     * @param steps samples per VM, at least 1.
     * @param seed  seed.
     * @return the workload.
     */
    public static Workload memoryOvercommit(final int vms, final int hosts, final int steps, final long seed)
    {
        if (vms < 1 || hosts < 1 || steps < 1)
        {
            throw new IllegalArgumentException("a memory-overcommit trace needs VMs, hosts and steps >= 1, got " + vms +
                ", " + hosts + ", " + steps);
        }
        final SplittableRandom random = new SplittableRandom(seed * 1_000_003 + 19);
        final float[][] cpu = new float[vms][steps];
        final double[][] raw = new double[vms][steps];
        double total = 0;
        for (int v = 0; v < vms; v++)
        {
            final double size = 2.0 * Math.exp(0.8 * gaussian(random)); // GiB, before scaling
            final double base = size * (0.4 + 0.5 * random.nextDouble());
            final double swing = size * 0.25 * random.nextDouble();
            final double phase = random.nextDouble() * 2 * Math.PI;
            final double cpuBase = 0.05 + 0.45 * random.nextDouble();
            int spell = 0;
            double growth = 0;
            for (int t = 0; t < steps; t++)
            {
                if (spell == 0 && random.nextDouble() < 0.01)
                {
                    spell = 3 + random.nextInt(28);
                    growth = size * 0.3 * random.nextDouble();
                }
                double value = base + swing * Math.sin(2 * Math.PI * t / Math.max(steps, 2) + phase) +
                    0.02 * size * gaussian(random);
                if (spell > 0)
                {
                    value += growth;
                    spell--;
                }
                raw[v][t] = Math.max(0.05 * size, value);
                total += raw[v][t];
                cpu[v][t] = (float)Math.max(0, cpuBase * (1 + 0.2 * gaussian(random)));
            }
        }
        final double scale = OVERCOMMIT_MEAN_MEMORY * hosts * OVERCOMMIT_HOST_MEMORY / (total / steps);
        final float[][] memory = new float[vms][steps];
        for (int v = 0; v < vms; v++)
        {
            for (int t = 0; t < steps; t++)
            {
                memory[v][t] = (float)(raw[v][t] * scale);
            }
        }
        // a 32-core reference host: a VM's CPU share stays small beside its memory
        return new Workload("memory-overcommit (generated, seed " + seed + ")", cpu, null, memory, MEMORY_BOUND,
            new HostCapacity(32, 1, 1, OVERCOMMIT_HOST_MEMORY));
    }

    private static double gaussian(final SplittableRandom random)
    {
        // Box-Muller: SplittableRandom has no nextGaussian on Java 17
        final double u = 1.0 - random.nextDouble();
        final double w = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w);
    }
}
