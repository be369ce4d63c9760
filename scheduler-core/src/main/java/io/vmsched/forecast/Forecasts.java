package io.vmsched.forecast;

/**
 * The checks every {@link Forecaster} makes, in one place so the messages read the same.
 */
final class Forecasts
{
    private Forecasts()
    {
    }

    /**
     * @param name  the forecaster's name.
     * @param value a value to observe.
     * @throws IllegalArgumentException if it is not finite.
     */
    static void checkValue(final String name, final double value)
    {
        if (!Double.isFinite(value))
        {
            throw new IllegalArgumentException(name + ": an observed value must be a finite number, got " + value);
        }
    }

    /**
     * @param forecaster the forecaster asked.
     * @param horizon    the steps ahead asked.
     * @param why        why the minimum history is what it is, e.g. {@code " (two seasons of 288)"}, or "".
     * @throws IllegalArgumentException if the horizon is below 1, the history is shorter than the
     *                                  forecaster's minimum, or the horizon is beyond the history.
     */
    static void checkHorizon(final Forecaster forecaster, final int horizon, final String why)
    {
        if (horizon < 1)
        {
            throw new IllegalArgumentException(forecaster.name() + ": the forecast horizon must be at least 1 step, got " +
                horizon);
        }
        final long observed = forecaster.observed();
        if (observed < forecaster.minHistory())
        {
            throw new IllegalArgumentException(forecaster.name() + ": too short a history: " + observed +
                (observed == 1 ? " value" : " values") + " observed, at least " + forecaster.minHistory() + " needed" + why);
        }
        if (horizon > observed)
        {
            throw new IllegalArgumentException(forecaster.name() + ": the forecast horizon " + horizon +
                " is beyond what the history supports: " + observed + (observed == 1 ? " value" : " values") +
                " observed, so at most " + observed +
                " steps ahead");
        }
    }
}
