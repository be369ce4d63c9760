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

    private static double gaussian(final SplittableRandom random)
    {
        // Box-Muller: SplittableRandom has no nextGaussian on Java 17
        final double u = 1.0 - random.nextDouble();
        final double w = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w);
    }
}
