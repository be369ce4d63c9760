package io.vmsched.forecast;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class ForecasterTest
{
    static final int M = 24;

    /** A season of 24 steps: a daily-like shape with a sharp peak, no noise. */
    static double pattern(final long t)
    {
        final int p = (int)(t % M);
        return 5 + 3 * Math.sin(2 * Math.PI * p / M) + (p == 18 ? 4 : 0);
    }

    static void feed(final Forecaster f, final int from, final int to, final java.util.function.LongToDoubleFunction y)
    {
        for (int t = from; t < to; t++)
        {
            f.observe(y.applyAsDouble(t));
        }
    }

    @Test
    void naiveForecastsTheLastValueAtEveryHorizon()
    {
        final NaiveForecaster f = new NaiveForecaster();
        feed(f, 0, 10, t -> t * 2.5);
        assertEquals(22.5, f.forecast(1));
        assertEquals(22.5, f.forecast(10));
    }

    @Test
    void aPureSeasonalSeriesIsForecastExactlyBySeasonalNaiveAndNearExactlyByHoltWinters()
    {
        final SeasonalNaiveForecaster naive = new SeasonalNaiveForecaster(M);
        final HoltWintersForecaster hw = new HoltWintersForecaster(M);
        final NaiveForecaster last = new NaiveForecaster();
        final int n = 10 * M + 7; // not a whole number of seasons: the phase must be right
        feed(naive, 0, n, ForecasterTest::pattern);
        feed(hw, 0, n, ForecasterTest::pattern);
        feed(last, 0, n, ForecasterTest::pattern);
        double naiveError = 0;
        for (int h = 1; h <= 3 * M; h++)
        {
            final double actual = pattern(n - 1 + h);
            assertEquals(actual, naive.forecast(h), 1e-12, "snaive h=" + h);
            assertEquals(actual, hw.forecast(h), 1e-9, "hw h=" + h);
            naiveError += Math.abs(actual - last.forecast(h));
        }
        assertTrue(naiveError > 50, "the last value is no forecast of a season: " + naiveError);
    }

    @Test
    void holtWintersFollowsATrendUnderASeasonWhereSeasonalNaiveLagsIt()
    {
        final java.util.function.LongToDoubleFunction y = t -> pattern(t) + 0.05 * t;
        final SeasonalNaiveForecaster naive = new SeasonalNaiveForecaster(M);
        final HoltWintersForecaster hw = new HoltWintersForecaster(M);
        final int n = 40 * M;
        feed(naive, 0, n, y);
        feed(hw, 0, n, y);
        double naiveError = 0;
        double hwError = 0;
        for (int h = 1; h <= M; h++)
        {
            naiveError += Math.abs(y.applyAsDouble(n - 1 + h) - naive.forecast(h));
            hwError += Math.abs(y.applyAsDouble(n - 1 + h) - hw.forecast(h));
        }
        assertEquals(0.05 * M * M, naiveError, 1e-6); // snaive is a season's trend behind at every step
        assertTrue(hwError < 0.05 * naiveError, "hw " + hwError + " vs snaive " + naiveError);
        assertEquals(0.05, hw.trend(), 0.005);
    }

    @Test
    void holtForecastsALinearTrend()
    {
        final HoltWintersForecaster holt = new HoltWintersForecaster(0);
        final int n = 300;
        feed(holt, 0, n, t -> 5 + 0.3 * t);
        for (final int h : new int[] { 1, 10, 100, 300 })
        {
            assertEquals(5 + 0.3 * (n - 1 + h), holt.forecast(h), 1e-6, "h=" + h);
        }
        assertTrue(holt.beta() > 0, "a trend was chosen");
    }

    @Test
    void holtBeatsNaiveOnANoisyTrendAndNaiveIsNotFooledByNoise()
    {
        final SplittableRandom random = new SplittableRandom(7);
        final double[] y = new double[400];
        for (int t = 0; t < y.length; t++)
        {
            y[t] = 10 + 0.2 * t + random.nextGaussian();
        }
        final HoltWintersForecaster holt = new HoltWintersForecaster(0);
        final NaiveForecaster naive = new NaiveForecaster();
        double holtError = 0;
        double naiveError = 0;
        final int h = 10;
        for (int t = 0; t + h < y.length; t++)
        {
            holt.observe(y[t]);
            naive.observe(y[t]);
            if (t >= 100)
            {
                holtError += Math.abs(y[t + h] - holt.forecast(h));
                naiveError += Math.abs(y[t + h] - naive.forecast(h));
            }
        }
        assertTrue(holtError < 0.5 * naiveError, "holt " + holtError + " vs naive " + naiveError);
    }

    @Test
    void theParametersFollowTheSeries()
    {
        final SplittableRandom random = new SplittableRandom(11);
        final HoltWintersForecaster walk = new HoltWintersForecaster(0);
        final HoltWintersForecaster noise = new HoltWintersForecaster(0);
        double position = 0;
        for (int t = 0; t < 600; t++)
        {
            position += random.nextGaussian();
            walk.observe(position);               // a random walk: the last value is the best forecast
            noise.observe(3 + random.nextGaussian()); // noise about a constant: the long mean is
        }
        assertTrue(walk.alpha() >= 0.7, "random walk: alpha " + walk.alpha());
        assertTrue(noise.alpha() <= 0.1, "white noise: alpha " + noise.alpha());
        assertEquals(0, noise.beta(), "no trend in noise");
    }

    @Test
    void fittedToTheHorizonItIsAskedAHoltWintersForecasterStillForecastsTheSeason()
    {
        final HoltWintersForecaster hw = new HoltWintersForecaster(M, HoltWintersForecaster.Grid.DAMPED, M, 7 * M, M);
        final int n = 10 * M;
        feed(hw, 0, n, ForecasterTest::pattern);
        assertEquals("hw(m=24)/fit h=24", hw.name());
        for (int h = 1; h <= M; h++)
        {
            assertEquals(pattern(n - 1 + h), hw.forecast(h), 1e-9);
        }
    }

    @Test
    void badInputIsOneClearLine()
    {
        final HoltWintersForecaster hw = new HoltWintersForecaster(M);
        feed(hw, 0, 30, ForecasterTest::pattern);
        assertMessage(() -> hw.forecast(1), "hw(m=24): too short a history: 30 values observed, at least 48 needed " +
            "(two seasons of 24)");
        feed(hw, 30, 60, ForecasterTest::pattern);
        assertMessage(() -> hw.forecast(0), "hw(m=24): the forecast horizon must be at least 1 step, got 0");
        assertMessage(() -> hw.forecast(61), "hw(m=24): the forecast horizon 61 is beyond what the history supports: " +
            "60 values observed, so at most 60 steps ahead");
        assertMessage(() -> hw.observe(Double.NaN), "hw(m=24): an observed value must be a finite number, got NaN");
        assertMessage(() -> new SeasonalNaiveForecaster(24).forecast(1), "snaive(m=24): too short a history: 0 values " +
            "observed, at least 24 needed (one season of 24)");
        assertMessage(() -> new NaiveForecaster().forecast(1), "naive: too short a history: 0 values observed, at least " +
            "1 needed");
        assertMessage(() -> new HoltWintersForecaster(1), "Holt-Winters: the season must be at least 2 steps, or 0 " +
            "for none, got 1");
        assertMessage(() -> new SeasonalNaiveForecaster(0), "snaive: the season must be at least 2 steps, got 0 " +
            "(without a season use the naive forecast)");
        assertMessage(() -> new HoltWintersForecaster.Grid(new double[] { 0 }, new double[] { 0 }, new double[] { 0 },
            new double[] { 1 }), "Holt-Winters grid: alpha must be in (0, 1], got 0.0");
    }

    static void assertMessage(final org.junit.jupiter.api.function.Executable call, final String message)
    {
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, call);
        assertEquals(message, ex.getMessage());
        assertFalse(ex.getMessage().contains("\n"));
    }
}
