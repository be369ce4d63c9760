package io.vmsched.load;

/**
 * Turns usage into load (seed VM claims 6-12, 21, 32): the load of a VM on a host is
 * {@code wCpu * cpu / (cores * speed) + wIo * io / bandwidth + wMem * memory / hostMemory}, a
 * dimensionless fraction of that host's capacity (weights normalised to sum to 1, so a host whose
 * every resource is fully used has load 1).
 * <p>
 * A VM's load has two modes (claims 6, 7): <em>actual</em>, its measured usage smoothed by an
 * exponentially weighted moving average over a configurable window ({@link Smoother}) so that a
 * spike does not trigger a migration, and <em>target</em>, a load programmed for it; {@link VmLoad}
 * holds one VM's figures in either mode. The simulator uses actual loads only.
 * <p>
 * Immutable and threadsafe.
 */
public final class LoadModel
{
    private final double cpuWeight;
    private final double ioWeight;
    private final double memoryWeight;

    /**
     * @param weights the weights of CPU, I/O and memory.
     */
    public LoadModel(final LoadWeights weights)
    {
        final double sum = weights.cpu() + weights.io() + weights.memory();
        this.cpuWeight = weights.cpu() / sum;
        this.ioWeight = weights.io() / sum;
        this.memoryWeight = weights.memory() / sum;
    }

    /**
     * The load of a usage on a host.
     *
     * @param usage the VM's raw usage.
     * @param host  the host's capacity.
     * @return the load, as a fraction of the host's capacity.
     */
    public double load(final LoadFactors usage, final HostCapacity host)
    {
        return load(usage.cpuCores, usage.ioBytesPerSecond, usage.memoryBytes, host);
    }

    /**
     * The load of a usage on a host. Allocates nothing.
     *
     * @param cpuCores         reference cores busy.
     * @param ioBytesPerSecond I/O rate.
     * @param memoryBytes      memory occupied.
     * @param host             the host's capacity.
     * @return the load, as a fraction of the host's capacity.
     */
    public double load(final double cpuCores, final double ioBytesPerSecond, final double memoryBytes,
        final HostCapacity host)
    {
        return cpuWeight * cpuCores / host.cpuCapacity() +
            ioWeight * ioBytesPerSecond / host.ioBytesPerSecond() +
            memoryWeight * memoryBytes / host.memoryBytes();
    }

    /** @return normalised CPU weight. */
    public double cpuWeight()
    {
        return cpuWeight;
    }

    /** @return normalised I/O weight. */
    public double ioWeight()
    {
        return ioWeight;
    }

    /** @return normalised memory weight. */
    public double memoryWeight()
    {
        return memoryWeight;
    }

    /**
     * Exponentially weighted moving average over a window of samples: the "actual" load of a VM,
     * smoothed so a single spike moves it by about 1/window of its size.
     * <p>
     * <b>Note:</b> Not threadsafe.
     */
    public static final class Smoother
    {
        private final double alpha;
        private double value;
        private boolean primed;

        /**
         * @param window samples the average spans, at least 1 (1 = no smoothing).
         */
        public Smoother(final double window)
        {
            if (!(window >= 1))
            {
                throw new IllegalArgumentException("smoothing window must be at least 1 sample, got " + window);
            }
            this.alpha = 2.0 / (window + 1.0);
        }

        /**
         * @param window samples the average spans, at least 1.
         * @return the weight of each new sample: 2 / (window + 1).
         */
        public static double alpha(final double window)
        {
            return 2.0 / (window + 1.0);
        }

        /**
         * Add a sample.
         *
         * @param sample the new measurement.
         * @return the smoothed value.
         */
        public double update(final double sample)
        {
            value = primed ? value + alpha * (sample - value) : sample;
            primed = true;
            return value;
        }

        /** @return the smoothed value (0 before any sample). */
        public double value()
        {
            return value;
        }
    }

    /**
     * A load's volatility: an exponentially weighted moving average (weight {@link #ALPHA}) of its
     * change from one sample to the next, which {@link io.vmsched.balance.BalanceConfig#stabilityWeight}
     * weighs against a candidate. 0 until a second sample.
     * <p>
     * <b>Note:</b> Not threadsafe.
     */
    public static final class Volatility
    {
        /** Weight of each new change. */
        public static final double ALPHA = 0.1;

        private double value;
        private double last;
        private boolean primed;

        /**
         * Add a sample of the load.
         *
         * @param load the load now.
         * @return the volatility.
         */
        public double update(final double load)
        {
            if (primed)
            {
                value += ALPHA * (Math.abs(load - last) - value);
            }
            last = load;
            primed = true;
            return value;
        }

        /** @return the volatility (0 before a second sample). */
        public double value()
        {
            return value;
        }
    }
}
