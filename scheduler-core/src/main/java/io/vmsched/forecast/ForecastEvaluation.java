package io.vmsched.forecast;

import io.vmsched.sim.Workload;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;

/**
 * An honest evaluation of forecasters on a trace, the baselines in the same run: rolling-origin
 * forecasts over one evaluation span shared by every method and series.
 * <p>
 * <b>Series.</b> Each VM's usage of one resource, each host's sum (the VMs placed on it, as the
 * simulator places them) and the cluster's sum: the inventory forecasts a host's demand, which is
 * smoother than its VMs'.
 * <p>
 * <b>Protocol.</b> Each method's forecasters observe a series one value at a time. After observing
 * {@code y[0..t]} with {@code t + 1 >= start}, each forecasts {@code y[t+h]} for every horizon
 * {@code h} with {@code t + h} inside the series; nothing of the future is seen. {@code start} is the
 * same for all methods and series: the longest history any method needs, the longest horizon (a
 * forecast reaches no further than its history), and the warm-up asked, whichever is largest. So at a
 * horizon every method is scored on the same targets.
 * <p>
 * <b>Errors.</b> MASE (Hyndman and Koehler, 2006): the mean absolute error at a horizon divided by
 * the series' mean absolute one-step change over the span ({@code |y[t] - y[t-1]|} for {@code t} from
 * {@code start}), which is the naive forecast's one-step error: naive scores exactly 1 one step ahead,
 * below 1 is better than it, and every method and horizon of a series shares the scale. A constant
 * series has no scale and no MASE. MAPE: the mean of {@code |error| / |y|} in per cent, defined for a
 * series and horizon only if no target is 0.
 * <p>
 * <b>Gaps.</b> A value the trace reader filled in (a gap in the trace's timestamps, {@link
 * Workload#filled}) is observed like any other, as a host would see a held value, but is never a
 * target: no forecast of it is scored, and no one-step change into it counts in the scale (so naive
 * still scores exactly 1 one step ahead).
 * <p>
 * Pure: no threads, no clock, no randomness.
 */
public final class ForecastEvaluation
{
    private ForecastEvaluation()
    {
    }

    /** The resource a series measures. */
    public enum Resource
    {
        /** Reference cores busy. */
        CPU,
        /** Memory bytes. */
        MEMORY,
        /** I/O bytes per second. */
        IO;

        /**
         * @param text {@code cpu}, {@code memory} or {@code io}.
         * @return the resource.
         * @throws IllegalArgumentException naming the choices.
         */
        public static Resource parse(final String text)
        {
            switch (text)
            {
                case "cpu": return CPU;
                case "memory": return MEMORY;
                case "io": return IO;
                default: throw new IllegalArgumentException("unknown resource '" + text + "': expected cpu, memory or io");
            }
        }

        double of(final Workload workload, final int vm, final int step)
        {
            switch (this)
            {
                case CPU: return workload.cpu(vm, step);
                case MEMORY: return workload.memory(vm, step);
                default: return workload.io(vm, step);
            }
        }
    }

    /** What a series is the demand of. */
    public enum Kind
    {
        /** One VM. */
        VM,
        /** One host: its VMs' sum. */
        HOST,
        /** The cluster: every VM's sum. */
        CLUSTER
    }

    /**
     * One series to forecast.
     *
     * @param name   for reports: the VM's index, {@code host 3}, {@code cluster}.
     * @param kind   what it is the demand of.
     * @param values its values, oldest first.
     * @param filled true where a value was filled in by the trace reader, not measured (never scored);
     *               null if none was.
     */
    public record Series(String name, Kind kind, double[] values, boolean[] filled)
    {
        /**
         * A series every value of which was measured.
         *
         * @param name   for reports.
         * @param kind   what it is the demand of.
         * @param values its values, oldest first.
         */
        public Series(final String name, final Kind kind, final double[] values)
        {
            this(name, kind, values, null);
        }

        /**
         * @param t a step.
         * @return true if the value at {@code t} was filled in, not measured.
         */
        public boolean filled(final int t)
        {
            return filled != null && filled[t];
        }
    }

    /**
     * A method evaluated.
     *
     * @param name       for reports.
     * @param perHorizon true if it is made once for each horizon (fitted to that horizon), false if one
     *                   forecaster answers every horizon.
     * @param factory    makes a forecaster; given the horizon it will be asked (1 when not per horizon).
     */
    public record Method(String name, boolean perHorizon, IntFunction<Forecaster> factory)
    {
        /**
         * @param name    for reports.
         * @param factory makes a forecaster that answers every horizon.
         * @return the method.
         */
        public static Method of(final String name, final java.util.function.Supplier<Forecaster> factory)
        {
            return new Method(name, false, h -> factory.get());
        }
    }

    /**
     * The errors of one method on one series.
     *
     * @param mase   MASE at each horizon (NaN for a constant series).
     * @param mape   MAPE in per cent at each horizon (NaN where a target is 0).
     * @param points forecasts scored at each horizon.
     */
    public record Score(double[] mase, double[] mape, int[] points)
    {
    }

    /**
     * The evaluation's outcome.
     *
     * @param horizons the horizons, in steps.
     * @param methods  the methods' names.
     * @param series   the series.
     * @param start    the values every method observed before its first scored forecast.
     * @param scores   {@code [series][method]}.
     */
    public record Result(int[] horizons, List<String> methods, List<Series> series, int start, Score[][] scores)
    {
        /**
         * @param kind   the series' kind.
         * @param method the method's index.
         * @param h      the horizon's index.
         * @return the MASE of every series of the kind that has one, sorted.
         */
        public double[] mases(final Kind kind, final int method, final int h)
        {
            return collect(kind, method, h, true);
        }

        /**
         * @param kind   the series' kind.
         * @param method the method's index.
         * @param h      the horizon's index.
         * @return the MAPE of every series of the kind where it is defined, sorted.
         */
        public double[] mapes(final Kind kind, final int method, final int h)
        {
            return collect(kind, method, h, false);
        }

        private double[] collect(final Kind kind, final int method, final int h, final boolean mase)
        {
            final double[] values = new double[series.size()];
            int count = 0;
            for (int s = 0; s < series.size(); s++)
            {
                if (series.get(s).kind() == kind)
                {
                    final double v = mase ? scores[s][method].mase()[h] : scores[s][method].mape()[h];
                    if (Double.isFinite(v))
                    {
                        values[count++] = v;
                    }
                }
            }
            final double[] out = Arrays.copyOf(values, count);
            Arrays.sort(out);
            return out;
        }

        /**
         * @param kind a kind.
         * @return how many series of the kind there are.
         */
        public int count(final Kind kind)
        {
            int count = 0;
            for (final Series s : series)
            {
                count += s.kind() == kind ? 1 : 0;
            }
            return count;
        }
    }

    /**
     * The series of a workload: each VM's, each host's sum, the cluster's sum.
     *
     * @param workload  the trace, as the simulator reads it ({@code io.vmsched.sim.Traces}).
     * @param resource  the resource.
     * @param placement each VM's host, as {@code io.vmsched.sim.Simulator.placement} gives it.
     * @param hosts     the hosts.
     * @return the series: VMs first, then hosts (those holding a VM), then the cluster.
     */
    public static List<Series> series(final Workload workload, final Resource resource, final int[] placement,
        final int hosts)
    {
        final int steps = workload.steps();
        final List<Series> out = new ArrayList<>();
        final double[][] hostSums = new double[hosts][steps];
        final boolean[] used = new boolean[hosts];
        final double[] cluster = new double[steps];
        final boolean[][] hostFilled = new boolean[hosts][steps];
        final boolean[] clusterFilled = new boolean[steps];
        boolean anyFilled = false;
        for (int v = 0; v < workload.vms(); v++)
        {
            final double[] values = new double[steps];
            final boolean[] filled = new boolean[steps];
            boolean vmFilled = false;
            for (int t = 0; t < steps; t++)
            {
                values[t] = resource.of(workload, v, t);
                hostSums[placement[v]][t] += values[t];
                cluster[t] += values[t];
                if (workload.filled(v, t))
                {
                    filled[t] = true;
                    hostFilled[placement[v]][t] = true;
                    clusterFilled[t] = true;
                    vmFilled = true;
                }
            }
            anyFilled |= vmFilled;
            used[placement[v]] = true;
            out.add(new Series("vm " + v, Kind.VM, values, vmFilled ? filled : null));
        }
        for (int h = 0; h < hosts; h++)
        {
            if (used[h])
            {
                out.add(new Series("host " + h, Kind.HOST, hostSums[h], anyFilled ? hostFilled[h] : null));
            }
        }
        out.add(new Series("cluster", Kind.CLUSTER, cluster, anyFilled ? clusterFilled : null));
        return out;
    }

    /**
     * Evaluate the methods on the series.
     *
     * @param series   the series, all of one length.
     * @param horizons the horizons, each at least 1.
     * @param methods  the methods, the baselines among them.
     * @param warmUp   values observed before the first scored forecast, at least (0: only what the methods
     *                 and horizons need).
     * @return the scores.
     * @throws IllegalArgumentException if a horizon is below 1, or the series are too short to score any
     *                                  forecast at the longest horizon.
     */
    public static Result evaluate(final List<Series> series, final int[] horizons, final List<Method> methods,
        final int warmUp)
    {
        if (series.isEmpty() || methods.isEmpty() || horizons.length == 0)
        {
            throw new IllegalArgumentException("nothing to evaluate: " + series.size() + " series, " + methods.size() +
                " methods, " + horizons.length + " horizons");
        }
        int start = Math.max(1, warmUp);
        for (final int h : horizons)
        {
            if (h < 1)
            {
                throw new IllegalArgumentException("a forecast horizon must be at least 1 step, got " + h);
            }
            start = Math.max(start, h);
        }
        for (final Method m : methods)
        {
            for (final int h : horizons)
            {
                start = Math.max(start, m.factory().apply(m.perHorizon() ? h : 1).minHistory());
            }
        }
        int longest = 0;
        for (final int h : horizons)
        {
            longest = Math.max(longest, h);
        }
        final int length = series.get(0).values().length;
        if (start + longest > length)
        {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "the series have %d steps: too short to " +
                "score a forecast %d steps ahead after the %d steps of history the methods need", length, longest, start));
        }
        final Score[][] scores = new Score[series.size()][methods.size()];
        for (int s = 0; s < series.size(); s++)
        {
            final Series one = series.get(s);
            final double[] y = one.values();
            if (y.length != length)
            {
                throw new IllegalArgumentException("series '" + series.get(s).name() + "' has " + y.length +
                    " steps, the first " + length);
            }
            double scale = 0;
            int changes = 0;
            for (int t = start; t < length; t++)
            {
                if (!one.filled(t))
                {
                    scale += Math.abs(y[t] - y[t - 1]);
                    changes++;
                }
            }
            scale = changes > 0 ? scale / changes : 0;
            for (int m = 0; m < methods.size(); m++)
            {
                scores[s][m] = score(one, methods.get(m), horizons, start, scale);
            }
        }
        final List<String> names = new ArrayList<>();
        for (final Method m : methods)
        {
            names.add(m.name());
        }
        return new Result(horizons.clone(), names, List.copyOf(series), start, scores);
    }

    private static Score score(final Series series, final Method method, final int[] horizons, final int start,
        final double scale)
    {
        final double[] y = series.values();
        final int n = horizons.length;
        final Forecaster[] forecasters = new Forecaster[n];
        for (int i = 0; i < n; i++)
        {
            forecasters[i] = method.perHorizon() || i == 0 ? method.factory().apply(method.perHorizon() ? horizons[i] : 1) :
                forecasters[0];
        }
        final double[] absolute = new double[n];
        final double[] percentage = new double[n];
        final boolean[] zeroTarget = new boolean[n];
        final int[] points = new int[n];
        for (int t = 0; t < y.length; t++)
        {
            for (int i = 0; i < n; i++)
            {
                if (i == 0 || forecasters[i] != forecasters[0])
                {
                    forecasters[i].observe(y[t]);
                }
            }
            if (t + 1 < start)
            {
                continue;
            }
            for (int i = 0; i < n; i++)
            {
                final int target = t + horizons[i];
                if (target < y.length && !series.filled(target))
                {
                    final double error = Math.abs(y[target] - forecasters[i].forecast(horizons[i]));
                    absolute[i] += error;
                    if (y[target] == 0)
                    {
                        zeroTarget[i] = true;
                    }
                    else
                    {
                        percentage[i] += error / Math.abs(y[target]);
                    }
                    points[i]++;
                }
            }
        }
        final double[] mase = new double[n];
        final double[] mape = new double[n];
        for (int i = 0; i < n; i++)
        {
            mase[i] = scale > 0 && points[i] > 0 ? absolute[i] / points[i] / scale : Double.NaN;
            mape[i] = zeroTarget[i] || points[i] == 0 ? Double.NaN : 100 * percentage[i] / points[i];
        }
        return new Score(mase, mape, points);
    }

    /**
     * @param sorted values, sorted.
     * @return their median, NaN if none.
     */
    public static double median(final double[] sorted)
    {
        if (sorted.length == 0)
        {
            return Double.NaN;
        }
        final int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /**
     * @param values values.
     * @return their mean, NaN if none.
     */
    public static double mean(final double[] values)
    {
        if (values.length == 0)
        {
            return Double.NaN;
        }
        double sum = 0;
        for (final double v : values)
        {
            sum += v;
        }
        return sum / values.length;
    }
}
