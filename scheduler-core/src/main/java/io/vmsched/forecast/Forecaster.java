package io.vmsched.forecast;

/**
 * A forecaster of one series sampled at a fixed step: it observes one value a step and forecasts
 * the value {@code h} steps after the last one observed.
 * <p>
 * Implementations allocate everything they need when constructed: {@link #observe(double)} and
 * {@link #forecast(int)} allocate nothing (except the message of an exception on bad input), so a
 * host's agent may keep one per resource and feed it every sample.
 * <p>
 * Bad input is an {@link IllegalArgumentException} with one line: a value that is not finite, a
 * horizon below 1, a horizon beyond what the history supports (more steps ahead than values
 * observed), or a forecast asked before {@link #minHistory()} values (too short a history for the
 * season).
 * <p>
 * <b>Note:</b> Not threadsafe.
 */
public interface Forecaster
{
    /**
     * @return a short name for reports, e.g. {@code naive}, {@code snaive(m=288)}.
     */
    String name();

    /**
     * Take the next value of the series.
     *
     * @param value the value at the next step.
     * @throws IllegalArgumentException if the value is not finite.
     */
    void observe(double value);

    /**
     * @param horizon steps after the last value observed, from 1 to {@link #observed()}.
     * @return the forecast of the value at that step.
     * @throws IllegalArgumentException if the horizon is below 1 or above {@link #observed()}, or
     *                                  fewer than {@link #minHistory()} values were observed.
     */
    double forecast(int horizon);

    /**
     * @return the values observed so far.
     */
    long observed();

    /**
     * @return the values that must be observed before a forecast can be made (for a seasonal method,
     * one or two seasons).
     */
    int minHistory();

    /**
     * @return true once {@link #minHistory()} values were observed.
     */
    default boolean ready()
    {
        return observed() >= minHistory();
    }
}
