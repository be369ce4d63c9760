package io.vmsched.cli;

import io.vmsched.forecast.ForecastEvaluation;
import io.vmsched.forecast.ForecastEvaluation.Kind;
import io.vmsched.forecast.ForecastEvaluation.Method;
import io.vmsched.forecast.HoltWintersForecaster;
import io.vmsched.forecast.NaiveForecaster;
import io.vmsched.forecast.SeasonalNaiveForecaster;
import io.vmsched.sim.Simulator;
import io.vmsched.sim.Traces;
import io.vmsched.sim.Workload;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code vmsched forecast-eval}: the forecasters of {@code io.vmsched.forecast} scored on a trace the
 * simulator reads, the naive and seasonal-naive baselines in the same run, as Markdown tables (a thin
 * wrapper over {@link ForecastEvaluation}; the method and the figures are in docs/forecasting.md).
 */
@Command(name = "forecast-eval", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Score demand forecasts (naive, seasonal-naive, Holt, Holt-Winters) on a trace: MASE and MAPE " +
        "per VM, per host and for the cluster.")
final class ForecastEvalCommand implements Runnable
{
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--trace", required = true, description = "Directory of trace files.")
    Path trace;

    @Option(names = "--format", defaultValue = "planetlab", description = "planetlab | bitbrains (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--horizons", split = ",", description = "Steps ahead to score (default: 1,12,288 for bitbrains, " +
        "1,6,24 for planetlab).")
    List<Integer> horizons;

    @Option(names = "--seasons", description = "Season lengths in steps, comma-separated, or none (default: 288,2016 " +
        "for bitbrains: a day and a week of 5-minute samples; none for planetlab: a day of each VM only).")
    String seasons;

    @Option(names = "--resource", defaultValue = "cpu", description = "cpu | memory | io (default: ${DEFAULT-VALUE}).")
    String resource;

    @Option(names = "--hosts", defaultValue = "0", description = "Hosts the VMs are placed on round-robin, for the " +
        "hosts' sums (default: VMs / 10 rounded up, as vmsched simulate).")
    int hosts;

    @Option(names = "--warm-up", defaultValue = "0", description = "Steps observed before the first scored forecast, " +
        "at least (default: what the methods and horizons need).")
    int warmUp;

    @Option(names = "--per-series", negatable = true, description = "Print each VM's and host's MASE (default: on " +
        "for up to 20 VMs).")
    Boolean perSeries;

    @Override
    public void run()
    {
        final PrintWriter out = spec.commandLine().getOut();
        if (!"planetlab".equals(format) && !"bitbrains".equals(format))
        {
            throw new IllegalArgumentException("--format must be planetlab or bitbrains, got '" + format + "'");
        }
        final boolean bitbrains = "bitbrains".equals(format);
        final int[] hs = horizons != null ? horizons.stream().mapToInt(Integer::intValue).toArray() :
            bitbrains ? new int[] { 1, 12, 288 } : new int[] { 1, 6, 24 };
        for (final int h : hs)
        {
            Flags.atLeast("--horizons", h, 1, " step");
        }
        final int[] ms = parseSeasons(seasons != null ? seasons : bitbrains ? "288,2016" : "none");
        final ForecastEvaluation.Resource parsedResource;
        try
        {
            parsedResource = ForecastEvaluation.Resource.parse(resource);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("--resource: " + ex.getMessage());
        }
        if (hosts != 0)
        {
            Flags.atLeast("--hosts", hosts, 1, "");
        }
        Flags.atLeast("--warm-up", warmUp, 0, " steps");

        final Workload workload = bitbrains ? Traces.bitbrains(trace, hosts) : Traces.planetLab(trace);
        final int hostCount = hosts > 0 ? hosts : Traces.defaultHosts(workload.vms());
        final int[] placement = Simulator.placement("round-robin", workload.vms(), hostCount, 0);
        final List<ForecastEvaluation.Series> series = ForecastEvaluation.series(workload, parsedResource, placement,
            hostCount);
        final List<Method> methods = methods(ms, hs);
        final long started = System.nanoTime();
        final ForecastEvaluation.Result result = ForecastEvaluation.evaluate(series, hs, methods, warmUp);
        final long millis = (System.nanoTime() - started) / 1_000_000;

        out.printf(Locale.ROOT, "%s, %s: %d VMs on %d hosts (round-robin), %d steps; scored from step %d on, %d methods in " +
            "%,d ms%n", workload.name(), resource, workload.vms(), result.count(Kind.HOST), workload.steps(), result.start(),
            methods.size(), millis);
        int filled = 0;
        int filledSteps = 0;
        for (int t = 0; t < workload.steps(); t++)
        {
            boolean any = false;
            for (int v = 0; v < workload.vms(); v++)
            {
                if (workload.filled(v, t))
                {
                    filled++;
                    any = true;
                }
            }
            filledSteps += any ? 1 : 0;
        }
        if (filled > 0)
        {
            out.printf(Locale.ROOT, "Gaps in the trace's timestamps: %,d of the VMs' %,d samples filled in by the reader " +
                "(%,d steps with one), observed but never scored (nor a host's or the cluster's sum at those steps).%n",
                filled, (long)workload.vms() * workload.steps(), filledSteps);
        }
        out.println("MASE: mean absolute error / the series' mean one-step change (naive one step ahead = 1; lower is " +
            "better). Cells: mean over the series [median].");
        for (final Kind kind : Kind.values())
        {
            masesTable(out, result, kind);
        }
        out.println();
        out.println("MAPE %: median over the series where defined (no target 0) [series where defined / all].");
        for (final Kind kind : Kind.values())
        {
            mapesTable(out, result, kind);
        }
        if (perSeries != null ? perSeries : workload.vms() <= 20)
        {
            perSeriesTable(out, result);
        }
        out.flush();
    }

    /** The baselines, then Holt, then Holt-Winters for each season; the fitted-to-the-horizon forms where a horizon is over 1. */
    static List<Method> methods(final int[] seasons, final int[] horizons)
    {
        boolean longer = false;
        for (final int h : horizons)
        {
            longer |= h > 1;
        }
        final List<Method> methods = new ArrayList<>();
        methods.add(Method.of("naive", NaiveForecaster::new));
        for (final int m : seasons)
        {
            methods.add(Method.of("snaive(m=" + m + ")", () -> new SeasonalNaiveForecaster(m)));
        }
        methods.add(Method.of("holt", () -> new HoltWintersForecaster(0)));
        if (longer)
        {
            methods.add(fittedToHorizon(0));
        }
        for (final int m : seasons)
        {
            methods.add(Method.of("hw(m=" + m + ")", () -> new HoltWintersForecaster(m)));
            if (longer)
            {
                methods.add(fittedToHorizon(m));
            }
        }
        return methods;
    }

    private static Method fittedToHorizon(final int m)
    {
        return new Method((m > 0 ? "hw(m=" + m + ")" : "holt") + "/fit h", true, h -> new HoltWintersForecaster(m,
            HoltWintersForecaster.Grid.DEFAULT, HoltWintersForecaster.defaultRefit(m), HoltWintersForecaster.defaultWindow(m), h));
    }

    static int[] parseSeasons(final String text)
    {
        if (text.strip().equals("none"))
        {
            return new int[0];
        }
        final String[] parts = text.split(",");
        final int[] seasons = new int[parts.length];
        for (int i = 0; i < parts.length; i++)
        {
            try
            {
                seasons[i] = Integer.parseInt(parts[i].strip());
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("--seasons expects season lengths in steps, comma-separated, or none; got '" +
                    text + "'");
            }
            Flags.atLeast("--seasons", seasons[i], 2, " steps");
        }
        return seasons;
    }

    private static String kindLabel(final ForecastEvaluation.Result result, final Kind kind)
    {
        final int n = result.count(kind);
        switch (kind)
        {
            case VM: return n + " VMs";
            case HOST: return n + (n == 1 ? " host" : " hosts");
            default: return "cluster";
        }
    }

    private static void header(final PrintWriter out, final ForecastEvaluation.Result result, final String first)
    {
        final StringBuilder line = new StringBuilder("| " + first + " |");
        final StringBuilder rule = new StringBuilder("|---|");
        for (final int h : result.horizons())
        {
            line.append(" h=").append(h).append(" |");
            rule.append("---|");
        }
        out.println(line);
        out.println(rule);
    }

    private static void masesTable(final PrintWriter out, final ForecastEvaluation.Result result, final Kind kind)
    {
        out.println();
        header(out, result, "MASE, " + kindLabel(result, kind));
        for (int m = 0; m < result.methods().size(); m++)
        {
            final StringBuilder line = new StringBuilder("| " + result.methods().get(m) + " |");
            for (int h = 0; h < result.horizons().length; h++)
            {
                final double[] values = result.mases(kind, m, h);
                if (values.length == 0)
                {
                    line.append(" – |");
                }
                else if (kind == Kind.CLUSTER)
                {
                    line.append(String.format(Locale.ROOT, " %.3f |", values[0]));
                }
                else
                {
                    line.append(String.format(Locale.ROOT, " %.3f [%.3f] |", ForecastEvaluation.mean(values),
                        ForecastEvaluation.median(values)));
                }
            }
            out.println(line);
        }
    }

    private static void mapesTable(final PrintWriter out, final ForecastEvaluation.Result result, final Kind kind)
    {
        out.println();
        header(out, result, "MAPE %, " + kindLabel(result, kind));
        final int all = result.count(kind);
        for (int m = 0; m < result.methods().size(); m++)
        {
            final StringBuilder line = new StringBuilder("| " + result.methods().get(m) + " |");
            for (int h = 0; h < result.horizons().length; h++)
            {
                final double[] values = result.mapes(kind, m, h);
                if (values.length == 0)
                {
                    line.append(" – |");
                }
                else
                {
                    line.append(String.format(Locale.ROOT, " %.1f", ForecastEvaluation.median(values)));
                    line.append(kind == Kind.CLUSTER ? " |" : String.format(Locale.ROOT, " [%d/%d] |", values.length, all));
                }
            }
            out.println(line);
        }
    }

    private static void perSeriesTable(final PrintWriter out, final ForecastEvaluation.Result result)
    {
        out.println();
        out.println("MASE of each series at each horizon; the best method's in bold.");
        final StringBuilder line = new StringBuilder("| series | h |");
        final StringBuilder rule = new StringBuilder("|---|---|");
        for (final String name : result.methods())
        {
            line.append(' ').append(name).append(" |");
            rule.append("---|");
        }
        out.println(line);
        out.println(rule);
        final List<ForecastEvaluation.Series> series = result.series();
        for (int s = 0; s < series.size(); s++)
        {
            for (int h = 0; h < result.horizons().length; h++)
            {
                final StringBuilder row = new StringBuilder("| " + series.get(s).name() + " | " + result.horizons()[h] + " |");
                int best = -1;
                for (int m = 0; m < result.methods().size(); m++)
                {
                    final double v = result.scores()[s][m].mase()[h];
                    if (Double.isFinite(v) && (best < 0 || v < result.scores()[s][best].mase()[h]))
                    {
                        best = m;
                    }
                }
                for (int m = 0; m < result.methods().size(); m++)
                {
                    final double v = result.scores()[s][m].mase()[h];
                    final String cell = Double.isFinite(v) ? String.format(Locale.ROOT, "%.3f", v) : "–";
                    row.append(' ').append(m == best ? "**" + cell + "**" : cell).append(" |");
                }
                out.println(row);
            }
        }
    }
}
