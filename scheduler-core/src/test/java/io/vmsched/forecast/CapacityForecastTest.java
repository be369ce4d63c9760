package io.vmsched.forecast;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static io.vmsched.forecast.ForecasterTest.assertMessage;
import static org.junit.jupiter.api.Assertions.*;

class CapacityForecastTest
{
    static double[] ramp(final int n, final double start, final double slope, final double noise, final long seed)
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final double[] y = new double[n];
        for (int t = 0; t < n; t++)
        {
            y[t] = start + slope * t + noise * random.nextGaussian();
        }
        return y;
    }

    @Test
    void aLinearRampRunsOutWhenItsLineCrossesTheCapacity()
    {
        // 1 + 0.01 t reaches 4 at t = 300; the last value observed is t = 199
        final double[] y = ramp(200, 1, 0.01, 0, 1);
        final int steps = CapacityForecast.stepsUntilExhausted(y, 0, 4);
        assertTrue(Math.abs(steps - 101) <= 1, "steps " + steps);
    }

    @Test
    void aNoisyRampRunsOutNearWhereItsLineDoes()
    {
        final double[] y = ramp(400, 10, 0.05, 0.5, 3); // reaches 40 at t = 600: 201 steps after the last
        final int steps = CapacityForecast.stepsUntilExhausted(y, 0, 40);
        assertTrue(Math.abs(steps - 201) <= 30, "steps " + steps);
    }

    @Test
    void aFlatSeriesNeverRunsOutAndOneAboveCapacityRunsOutNextStep()
    {
        final double[] flat = ramp(300, 3, 0, 0.2, 5);
        assertEquals(CapacityForecast.NEVER, CapacityForecast.stepsUntilExhausted(flat, 0, 6));
        assertEquals(1, CapacityForecast.stepsUntilExhausted(flat, 0, 2));
    }

    @Test
    void aRampTooSlowToCrossWithinTheHistorysReachNeverRunsOut()
    {
        final double[] y = ramp(100, 1, 0.01, 0, 1); // reaches 4 at t = 300: 201 steps ahead, beyond 100
        assertEquals(CapacityForecast.NEVER, CapacityForecast.stepsUntilExhausted(y, 0, 4));
    }

    @Test
    void hostsNeededHoldTheForecastPeakAtTheTargetUtilisation()
    {
        final double[] constant = ramp(100, 10, 0, 0, 1);
        assertEquals(5, CapacityForecast.hostsNeeded(constant, 0, 12, 4, 0.5)); // 10 / (4 x 0.5)
        assertEquals(3, CapacityForecast.hostsNeeded(constant, 0, 12, 4, 1.0)); // 10 / 4 = 2.5
        assertEquals(0, CapacityForecast.hostsNeeded(new double[] { 0, 0, 0 }, 0, 1, 4, 1.0));

        // a daily peak of 12 over a mean of 6: the next season's peak decides, not the current value
        final int m = 24;
        final double[] seasonal = new double[10 * m];
        for (int t = 0; t < seasonal.length; t++)
        {
            seasonal[t] = t % m == 20 ? 12 : 6;
        }
        assertEquals(3, CapacityForecast.hostsNeeded(seasonal, m, m, 4, 1.0));   // 12 / 4
        assertEquals(2, CapacityForecast.hostsNeeded(seasonal, m, 5, 4, 0.75));  // the next 5 steps: 6 / 3
        assertEquals(12, CapacityForecast.peakForecast(CapacityForecast.fit(seasonal, m), m), 1e-9);
        // a growing demand: 10 + 0.1 t, 100 values; the next 50 steps reach 10 + 0.1 x 149 = 24.9
        assertEquals(7, CapacityForecast.hostsNeeded(ramp(100, 10, 0.1, 0, 1), 0, 50, 4, 1.0));
    }

    @Test
    void badInputIsOneClearLine()
    {
        final double[] y = ramp(50, 1, 0, 0, 1);
        assertMessage(() -> CapacityForecast.hostsNeeded(y, 0, 0, 4, 0.8),
            "holt: the forecast horizon must be at least 1 step, got 0");
        assertMessage(() -> CapacityForecast.hostsNeeded(y, 0, 51, 4, 0.8),
            "holt: the forecast horizon 51 is beyond what the history supports: 50 values observed, so at most 50 steps ahead");
        assertMessage(() -> CapacityForecast.hostsNeeded(ramp(40, 1, 0, 0, 1), 24, 12, 4, 0.8),
            "hw(m=24): too short a history: 40 values observed, at least 48 needed (two seasons of 24)");
        assertMessage(() -> CapacityForecast.hostsNeeded(y, 0, 12, 0, 0.8), "the host size must be a finite number above 0, got 0.0");
        assertMessage(() -> CapacityForecast.hostsNeeded(y, 0, 12, 4, 1.5), "the target utilisation must be in (0, 1], got 1.5");
        assertMessage(() -> CapacityForecast.stepsUntilExhausted(new double[] { 1 }, 0, 4),
            "holt: too short a history: 1 value observed, at least 2 needed");
        assertMessage(() -> CapacityForecast.stepsUntilExhausted(y, 0, Double.NaN), "the capacity must be a finite number, got NaN");
    }
}
