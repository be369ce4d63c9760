package io.vmsched.forecast;

import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadWeights;
import io.vmsched.sim.Simulator;
import io.vmsched.sim.Workload;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static io.vmsched.forecast.ForecastEvaluation.Kind;
import static io.vmsched.forecast.ForecastEvaluation.Method;
import static org.junit.jupiter.api.Assertions.*;

class ForecastEvaluationTest
{
    static final int M = 24;

    /** VMs with a daily-like season of 24 steps, a phase each, and noise: a seasonal method should win. */
    static Workload seasonalWorkload(final int vms, final int steps, final long seed)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final float[][] cpu = new float[vms][steps];
        for (int v = 0; v < vms; v++)
        {
            final double phase = random.nextDouble() * M;
            for (int t = 0; t < steps; t++)
            {
                cpu[v][t] = (float)Math.max(0, 1 + 0.8 * Math.sin(2 * Math.PI * (t + phase) / M) + 0.1 * random.nextGaussian());
            }
        }
        return new Workload("generated", cpu, null, null, LoadWeights.CPU_ONLY, new HostCapacity(10, 1, 1, 1));
    }

    static List<Method> methods()
    {
        return List.of(
            Method.of("naive", NaiveForecaster::new),
            Method.of("snaive", () -> new SeasonalNaiveForecaster(M)),
            Method.of("holt", () -> new HoltWintersForecaster(0)),
            Method.of("hw", () -> new HoltWintersForecaster(M)),
            new Method("hw/h", true, h -> new HoltWintersForecaster(M, HoltWintersForecaster.Grid.DEFAULT, M, 7 * M, h)));
    }

    @Test
    void seasonalMethodsBeatTheNaiveBaselineOnSeasonalSeriesAndTheSumsAreSeriesToo()
    {
        final Workload workload = seasonalWorkload(12, 20 * M, 5);
        final int hosts = 3;
        final int[] placement = Simulator.placement("round-robin", workload.vms(), hosts, 1);
        final List<ForecastEvaluation.Series> series = ForecastEvaluation.series(workload,
            ForecastEvaluation.Resource.CPU, placement, hosts);
        assertEquals(12 + 3 + 1, series.size());
        final double[] cluster = series.get(series.size() - 1).values();
        double sum = 0;
        for (int v = 0; v < 12; v++)
        {
            sum += workload.cpu(v, 7);
        }
        assertEquals(sum, cluster[7], 1e-9);

        final int[] horizons = { 1, 6, M };
        final ForecastEvaluation.Result result = ForecastEvaluation.evaluate(series, horizons, methods(), 0);
        assertEquals(2 * M, result.start(), "the longest history a method needs: hw's two seasons");
        for (final ForecastEvaluation.Score[] row : result.scores())
        {
            assertEquals(1.0, row[0].mase()[0], 1e-12, "naive one step ahead is the MASE scale");
            assertEquals(20 * M - 2 * M, row[0].points()[0]);
            assertEquals(20 * M - 2 * M - M + 1, row[0].points()[2]);
        }
        for (final Kind kind : Kind.values())
        {
            // six steps ahead is a quarter season: the last value is far off, last season's is near
            final double naive = ForecastEvaluation.mean(result.mases(kind, 0, 1));
            final double snaive = ForecastEvaluation.mean(result.mases(kind, 1, 1));
            assertTrue(snaive < 0.5 * naive, kind + ": snaive " + snaive + " vs naive " + naive);
            for (int h = 0; h < horizons.length; h++)
            {
                final double seasonalNaive = ForecastEvaluation.mean(result.mases(kind, 1, h));
                final double hw = ForecastEvaluation.mean(result.mases(kind, 3, h));
                final double hwFitted = ForecastEvaluation.mean(result.mases(kind, 4, h));
                // both smooth the noise that snaive copies from one season to the next
                assertTrue(hw < seasonalNaive, kind + " h=" + horizons[h] + ": hw " + hw + " vs snaive " + seasonalNaive);
                assertTrue(hwFitted < seasonalNaive, kind + " h=" + horizons[h] + ": hw/h " + hwFitted + " vs snaive " +
                    seasonalNaive);
            }
        }
        assertEquals(12, result.count(Kind.VM));
        assertEquals(3, result.count(Kind.HOST));
    }

    @Test
    void mapeIsUndefinedWhereATargetIsZeroAndMaseWhereTheSeriesIsConstant()
    {
        final float[][] cpu = { new float[100], new float[100] };
        for (int t = 0; t < 100; t++)
        {
            cpu[1][t] = 1 + t % 2;
        }
        final Workload workload = new Workload("generated", cpu, null, null, LoadWeights.CPU_ONLY, new HostCapacity(10, 1, 1, 1));
        final List<ForecastEvaluation.Series> series = ForecastEvaluation.series(workload,
            ForecastEvaluation.Resource.CPU, new int[] { 0, 0 }, 1);
        final ForecastEvaluation.Result result = ForecastEvaluation.evaluate(series, new int[] { 1, 2 },
            List.of(Method.of("naive", NaiveForecaster::new)), 10);
        assertEquals(10, result.start());
        assertTrue(Double.isNaN(result.scores()[0][0].mase()[0]), "a constant series has no scale");
        assertTrue(Double.isNaN(result.scores()[0][0].mape()[0]), "zero targets: no MAPE");
        assertEquals(0.0, result.scores()[1][0].mase()[1], 1e-12, "two steps ahead of an alternation is exact");
        assertEquals((1.0 / 2 + 1.0 / 1) / 2 * 100, result.scores()[1][0].mape()[0], 1.0); // errors of 1 on 1s and 2s
        assertEquals(1, result.mases(Kind.VM, 0, 0).length);
    }

    @Test
    void filledValuesAreObservedButNeverScoredNorInTheScale()
    {
        // a VM alternating 1, 2; a gap the reader filled by holding 1000 over steps 50-59 (a value no
        // forecast would hit): scored, it would swamp the errors; not scored, naive stays exactly 1
        final int steps = 100;
        final float[][] cpu = { new float[steps], new float[steps] };
        final boolean[][] filled = { new boolean[steps], new boolean[steps] };
        for (int t = 0; t < steps; t++)
        {
            cpu[0][t] = 1 + t % 2;
            cpu[1][t] = 3;
            if (t >= 50 && t < 60)
            {
                cpu[0][t] = 1000;
                filled[0][t] = true;
            }
        }
        final Workload workload = new Workload("generated", cpu, null, null, LoadWeights.CPU_ONLY,
            new HostCapacity(10, 1, 1, 1), filled);
        final List<ForecastEvaluation.Series> series = ForecastEvaluation.series(workload,
            ForecastEvaluation.Resource.CPU, new int[] { 0, 0 }, 1);
        assertTrue(series.get(2).filled(55), "a host's sum is filled where one of its VMs is");
        assertTrue(series.get(3).filled(55), "so is the cluster's");
        assertFalse(series.get(1).filled(55));
        final ForecastEvaluation.Result result = ForecastEvaluation.evaluate(series, new int[] { 1, 2 },
            List.of(Method.of("naive", NaiveForecaster::new)), 10);
        final ForecastEvaluation.Score vm = result.scores()[0][0];
        assertEquals(1.0, vm.mase()[0], 1e-12, "naive one step ahead is still the scale");
        assertEquals(steps - 10 - 10, vm.points()[0], "the 10 filled targets are not scored");
        // two steps ahead: exact but from the filled values' origins (steps 49-59 forecast 51-61)
        assertEquals(steps - 10 - 1 - 10, vm.points()[1]);
        // the scale: 79 changes of 1 and the one out of the gap, 1000 to 1 (it is naive's error there)
        // two steps ahead: exact, except from the last two held values (1000 for 1 and for 2)
        assertEquals((999.0 + 998) / 79 / ((79.0 + 999) / 80), vm.mase()[1], 1e-9,
            "forecasts made from a held value still count where their target was measured");
        assertEquals(vm.points()[0], result.scores()[2][0].points()[0], "the host skips the same steps");
    }

    @Test
    void tooShortASeriesIsRefusedInOneLine()
    {
        final Workload workload = seasonalWorkload(2, 60, 1);
        final List<ForecastEvaluation.Series> series = ForecastEvaluation.series(workload,
            ForecastEvaluation.Resource.CPU, new int[] { 0, 0 }, 1);
        ForecasterTest.assertMessage(() -> ForecastEvaluation.evaluate(series, new int[] { 1, M }, methods(), 0),
            "the series have 60 steps: too short to score a forecast 24 steps ahead after the 48 steps of history " +
            "the methods need");
        ForecasterTest.assertMessage(() -> ForecastEvaluation.evaluate(series, new int[] { 0 }, methods(), 0),
            "a forecast horizon must be at least 1 step, got 0");
    }
}
