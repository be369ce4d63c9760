package io.vmsched.forecast;

/**
 * The seasonal-naive forecast with a season of {@code m} steps: the value {@code h} steps ahead is
 * the last one observed at the same point of the season, {@code y[t + h - m * ceil(h / m)]} (for a
 * daily season, the same time yesterday). Needs one season of history.
 * <p>
 * Keeps the last season in a ring of {@code m} values allocated when constructed.
 * <p>
 * <b>Note:</b> Not threadsafe.
 */
public final class SeasonalNaiveForecaster implements Forecaster
{
    private final int season;
    private final double[] ring;
    private final String name;
    private final String historyReason;
    private long observed;

    /**
     * @param season the season's length in steps, at least 2.
     * @throws IllegalArgumentException if the season is below 2.
     */
    public SeasonalNaiveForecaster(final int season)
    {
        if (season < 2)
        {
            throw new IllegalArgumentException("snaive: the season must be at least 2 steps, got " + season +
                " (without a season use the naive forecast)");
        }
        this.season = season;
        this.ring = new double[season];
        this.name = "snaive(m=" + season + ")";
        this.historyReason = " (one season of " + season + ")";
    }

    /** @return the season's length in steps. */
    public int season()
    {
        return season;
    }

    @Override
    public String name()
    {
        return name;
    }

    @Override
    public void observe(final double value)
    {
        Forecasts.checkValue(name, value);
        ring[(int)(observed % season)] = value;
        observed++;
    }

    @Override
    public double forecast(final int horizon)
    {
        Forecasts.checkHorizon(this, horizon, historyReason);
        // the target step t + h, with t = observed - 1, sits at (t + h) mod m in the season; the ring
        // holds the latest value at every position, all at or before t once a season was seen
        return ring[(int)((observed - 1 + horizon) % season)];
    }

    @Override
    public long observed()
    {
        return observed;
    }

    @Override
    public int minHistory()
    {
        return season;
    }
}
