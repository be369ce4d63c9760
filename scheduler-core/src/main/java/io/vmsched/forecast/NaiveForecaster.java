package io.vmsched.forecast;

/**
 * The naive (random-walk) forecast: every step ahead is the last value observed. The baseline a
 * forecast must beat to be worth its cost; on 5-minute CPU samples it is hard to beat one step
 * ahead.
 * <p>
 * <b>Note:</b> Not threadsafe.
 */
public final class NaiveForecaster implements Forecaster
{
    private double last;
    private long observed;

    @Override
    public String name()
    {
        return "naive";
    }

    @Override
    public void observe(final double value)
    {
        Forecasts.checkValue("naive", value);
        last = value;
        observed++;
    }

    @Override
    public double forecast(final int horizon)
    {
        Forecasts.checkHorizon(this, horizon, "");
        return last;
    }

    @Override
    public long observed()
    {
        return observed;
    }

    @Override
    public int minHistory()
    {
        return 1;
    }
}
