package io.vmsched.forecast;

/**
 * Holt-Winters additive exponential smoothing with a season of {@code m} steps, or Holt's linear
 * trend without one ({@code m = 0}), its smoothing parameters chosen adaptively from the history.
 *
 * <h2>The model</h2>
 * For each parameter set {@code (α, β, γ, φ)}, on observing {@code y[t]}:
 * <pre>
 *   level    l[t] = α (y[t] - s[t-m]) + (1 - α) (l[t-1] + φ b[t-1])
 *   trend    b[t] = β (l[t] - l[t-1]) + (1 - β) φ b[t-1]
 *   season   s[t] = γ (y[t] - l[t]) + (1 - γ) s[t-m]
 *   forecast y[t+h | t] = l[t] + (φ + φ² + … + φ^h) b[t] + s[t+h-m·k],  k = ceil(h / m)
 * </pre>
 * (Winters' additive form; {@code φ < 1} damps the trend, as Gardner and McKenzie's, and
 * {@code φ = 1} is the classic linear one). Without a season {@code s} is 0 and this is Holt's
 * linear trend; {@code β = 0} keeps the trend at 0 (simple exponential smoothing, seasonal or not).
 * <p>
 * <b>Start.</b> With a season, the first {@code m} values start every parameter set alike: level
 * their mean, trend 0, season each value less the mean; the updates run from value {@code m + 1}
 * on, and forecasts need two seasons ({@link #minHistory()} {@code = 2m}), so that one full season
 * has updated the seasonal terms and scored the parameter sets. Without a season, the first value
 * is the level, the trend starts at 0, and forecasts need 2 values.
 *
 * <h2>Fitting the parameters: a grid run side by side</h2>
 * No constant is fitted to a trace. Every parameter set of a small {@link Grid} (by default 6 α ×
 * 3 β × 3 γ = 54 sets with a season, 18 without) runs as its own filter on every value, at O(1) a
 * set and a step. Each set's error is the squared error of its forecasts made {@code fitHorizon}
 * steps earlier (by default 1: one-step errors, the usual least-squares fit), summed in blocks of
 * {@code refitEvery} steps. At the end of every block the forecaster refits: it takes the set with
 * the least error over the last {@code window} steps (the last {@code ceil(window / refitEvery)}
 * blocks), and forecasts with it until the next refit. Before the first block ends it takes the set
 * with the least error so far. So the parameters follow the series as it changes: a set that
 * fitted last week but not this one is dropped. The defaults: refit every season (every 12 steps
 * without one), over the last 7 seasons (288 steps without one), that is, daily over a week on
 * 5-minute samples with a daily season.
 * <p>
 * Choosing by least squared error over a grid, rather than by a numerical optimiser, keeps the
 * method small, bounded in time and allocation-free, and a grid this coarse loses little: the
 * error surface of exponential smoothing is flat near its minimum (Hyndman and Athanasopoulos,
 * <i>Forecasting: Principles and Practice</i>, ch. 8).
 * <p>
 * Memory: {@code (m + 6 + blocks + fitHorizon)} doubles a parameter set, allocated when
 * constructed; {@link #observe(double)} and {@link #forecast(int)} allocate nothing.
 * <p>
 * <b>Note:</b> Not threadsafe.
 */
public final class HoltWintersForecaster implements Forecaster
{
    /** Refit period without a season, in steps (an hour of 5-minute samples). */
    public static final int NON_SEASONAL_REFIT = 12;
    /** Window of the fit without a season, in steps (a day of 5-minute samples). */
    public static final int NON_SEASONAL_WINDOW = 288;
    /** Seasons in the default window of the fit. */
    public static final int SEASONS_IN_WINDOW = 7;

    /**
     * The parameter values tried: every combination of α, β and φ (and γ with a season), except
     * that {@code β = 0} (no trend) is taken with one φ only.
     * <p>
     * Immutable.
     */
    public static final class Grid
    {
        /** The default grid: α in {0.05, 0.1, 0.2, 0.4, 0.7, 1}, β in {0, 0.02, 0.1}, γ in {0.05, 0.2, 0.5}, φ = 1. */
        public static final Grid DEFAULT = new Grid(
            new double[] { 0.05, 0.1, 0.2, 0.4, 0.7, 1.0 },
            new double[] { 0, 0.02, 0.1 },
            new double[] { 0.05, 0.2, 0.5 },
            new double[] { 1.0 });

        /** The default grid with the trend damped too: φ in {0.98, 1}. */
        public static final Grid DAMPED = new Grid(DEFAULT.alphas, DEFAULT.betas, DEFAULT.gammas, new double[] { 0.98, 1.0 });

        final double[] alphas;
        final double[] betas;
        final double[] gammas;
        final double[] phis;

        /**
         * @param alphas level smoothing values, each in (0, 1].
         * @param betas  trend smoothing values, each in [0, 1] (0: no trend).
         * @param gammas seasonal smoothing values, each in [0, 1] (unused without a season).
         * @param phis   trend damping values, each in (0, 1] (1: not damped).
         * @throws IllegalArgumentException if a list is empty or a value out of its range.
         */
        public Grid(final double[] alphas, final double[] betas, final double[] gammas, final double[] phis)
        {
            this.alphas = check("alpha", alphas, false);
            this.betas = check("beta", betas, true);
            this.gammas = check("gamma", gammas, true);
            this.phis = check("phi", phis, false);
        }

        private static double[] check(final String what, final double[] values, final boolean zeroAllowed)
        {
            if (values == null || values.length == 0)
            {
                throw new IllegalArgumentException("Holt-Winters grid: no " + what + " values");
            }
            for (final double v : values)
            {
                if (!(v <= 1) || (zeroAllowed ? !(v >= 0) : !(v > 0)))
                {
                    throw new IllegalArgumentException("Holt-Winters grid: " + what + " must be in " +
                        (zeroAllowed ? "[0, 1]" : "(0, 1]") + ", got " + v);
                }
            }
            return values.clone();
        }
    }

    private final String name;
    private final String historyReason;
    private final int season;
    private final int refitEvery;
    private final int blocks;
    private final int fitHorizon;
    private final int points;

    private final double[] alpha;
    private final double[] beta;
    private final double[] gamma;
    private final double[] phi;
    /** φ + … + φ^fitHorizon of each set. */
    private final double[] phiSumFit;

    private final double[] level;
    private final double[] trend;
    /** Each set's seasonal terms, {@code [set * m + position]}; null without a season. */
    private final double[] seasonal;
    /** Each set's forecasts made fitHorizon steps ago, {@code [set * fitHorizon + (target % fitHorizon)]}; null if 1. */
    private final double[] pastForecast;
    /** The first season's values, until they start the filters; null without a season. */
    private final double[] first;
    /** Each set's squared error in the block running. */
    private final double[] partial;
    /** Each set's squared error in the last blocks, {@code [block % blocks * points + set]}. */
    private final double[] blockError;

    private long observed;
    private long initIndex = -1;
    private long scoredSteps;
    private long blocksDone;
    private int selected;

    /**
     * A forecaster with the default grid, refit period and window, fitted on one-step errors.
     *
     * @param season the season's length in steps (at least 2), or 0 for none (Holt's linear trend).
     * @throws IllegalArgumentException if the season is 1 or negative.
     */
    public HoltWintersForecaster(final int season)
    {
        this(season, Grid.DEFAULT, defaultRefit(season), defaultWindow(season), 1);
    }

    /**
     * @param season     the season's length in steps (at least 2), or 0 for none (Holt's linear trend).
     * @param grid       the parameter values tried.
     * @param refitEvery steps between refits, at least 1.
     * @param window     steps of error the refit compares (rounded up to whole refit periods), at least 1.
     * @param fitHorizon the horizon whose errors score the parameter sets, at least 1 (1: one-step errors;
     *                   a forecaster used mostly h steps ahead may be fitted on h-step errors).
     * @throws IllegalArgumentException if a value is out of its range.
     */
    public HoltWintersForecaster(final int season, final Grid grid, final int refitEvery, final int window,
        final int fitHorizon)
    {
        if (season < 0 || season == 1)
        {
            throw new IllegalArgumentException("Holt-Winters: the season must be at least 2 steps, or 0 for none, got " +
                season);
        }
        if (refitEvery < 1 || window < 1 || fitHorizon < 1)
        {
            throw new IllegalArgumentException("Holt-Winters: the refit period, window and fit horizon must be at " +
                "least 1 step, got " + refitEvery + ", " + window + " and " + fitHorizon);
        }
        this.season = season;
        this.refitEvery = refitEvery;
        this.blocks = (int)((window + (long)refitEvery - 1) / refitEvery);
        this.fitHorizon = fitHorizon;
        this.name = (season > 0 ? "hw(m=" + season + ")" : "holt") + (fitHorizon > 1 ? "/fit h=" + fitHorizon : "");
        this.historyReason = season > 0 ? " (two seasons of " + season + ")" : "";

        final double[] gammas = season > 0 ? grid.gammas : new double[] { 0 };
        int count = 0;
        for (final double b : grid.betas)
        {
            count += grid.alphas.length * gammas.length * (b == 0 ? 1 : grid.phis.length);
        }
        this.points = count;
        alpha = new double[count];
        beta = new double[count];
        gamma = new double[count];
        phi = new double[count];
        phiSumFit = new double[count];
        int g = 0;
        for (final double b : grid.betas)
        {
            for (final double p : b == 0 ? new double[] { 1.0 } : grid.phis)
            {
                for (final double c : gammas)
                {
                    for (final double a : grid.alphas)
                    {
                        alpha[g] = a;
                        beta[g] = b;
                        gamma[g] = c;
                        phi[g] = p;
                        phiSumFit[g] = phiSum(p, fitHorizon);
                        g++;
                    }
                }
            }
        }
        level = new double[count];
        trend = new double[count];
        seasonal = season > 0 ? new double[count * season] : null;
        first = season > 0 ? new double[season] : null;
        pastForecast = fitHorizon > 1 ? new double[count * fitHorizon] : null;
        partial = new double[count];
        blockError = new double[count * blocks];
    }

    /**
     * @param season the season, or 0.
     * @return the default refit period: the season, or {@link #NON_SEASONAL_REFIT}.
     */
    public static int defaultRefit(final int season)
    {
        return season > 0 ? season : NON_SEASONAL_REFIT;
    }

    /**
     * @param season the season, or 0.
     * @return the default window: {@link #SEASONS_IN_WINDOW} seasons, or {@link #NON_SEASONAL_WINDOW}.
     */
    public static int defaultWindow(final int season)
    {
        return season > 0 ? SEASONS_IN_WINDOW * season : NON_SEASONAL_WINDOW;
    }

    @Override
    public String name()
    {
        return name;
    }

    /** @return the season's length in steps, 0 for none. */
    public int season()
    {
        return season;
    }

    /** @return the parameter sets run side by side. */
    public int gridSize()
    {
        return points;
    }

    /** @return α of the parameter set forecasting now. */
    public double alpha()
    {
        return alpha[selected];
    }

    /** @return β of the parameter set forecasting now (0: no trend). */
    public double beta()
    {
        return beta[selected];
    }

    /** @return γ of the parameter set forecasting now (0 without a season). */
    public double gamma()
    {
        return gamma[selected];
    }

    /** @return φ of the parameter set forecasting now. */
    public double phi()
    {
        return phi[selected];
    }

    /** @return the level of the parameter set forecasting now (0 before the start). */
    public double level()
    {
        return level[selected];
    }

    /** @return the trend, per step, of the parameter set forecasting now (0 before the start). */
    public double trend()
    {
        return trend[selected];
    }

    @Override
    public void observe(final double value)
    {
        Forecasts.checkValue(name, value);
        final long t = observed;
        if (initIndex < 0)
        {
            if (season > 0)
            {
                first[(int)t] = value;
                if (t == season - 1)
                {
                    start(t);
                }
            }
            else
            {
                java.util.Arrays.fill(level, value);
                start(t);
            }
            observed++;
            return;
        }

        final boolean scored = t - initIndex >= fitHorizon;
        final int position = season > 0 ? (int)(t % season) : 0;
        final int slot = fitHorizon > 1 ? (int)(t % fitHorizon) : 0;
        final int ahead = season > 0 ? (int)((t + fitHorizon) % season) : 0;
        for (int g = 0; g < points; g++)
        {
            final double s = season > 0 ? seasonal[g * season + position] : 0;
            final double l0 = level[g];
            final double damped = phi[g] * trend[g];
            if (scored)
            {
                final double f = fitHorizon == 1 ? l0 + damped + s : pastForecast[g * fitHorizon + slot];
                final double e = value - f;
                partial[g] += e * e;
            }
            final double l = alpha[g] * (value - s) + (1 - alpha[g]) * (l0 + damped);
            final double b = beta[g] * (l - l0) + (1 - beta[g]) * damped;
            level[g] = l;
            trend[g] = b;
            if (season > 0)
            {
                seasonal[g * season + position] = gamma[g] * (value - l) + (1 - gamma[g]) * s;
            }
            if (fitHorizon > 1)
            {
                pastForecast[g * fitHorizon + slot] = l + phiSumFit[g] * b + (season > 0 ? seasonal[g * season + ahead] : 0);
            }
        }
        observed++;
        if (scored)
        {
            scoredSteps++;
            if (scoredSteps % refitEvery == 0)
            {
                refit();
            }
            else if (blocksDone == 0)
            {
                selected = argmin(partial, 0);
            }
        }
    }

    /** The filters start alike from the values so far (the first season, or the first value). */
    private void start(final long t)
    {
        if (season > 0)
        {
            double mean = 0;
            for (final double v : first)
            {
                mean += v;
            }
            mean /= season;
            java.util.Arrays.fill(level, mean);
            for (int g = 0; g < points; g++)
            {
                for (int i = 0; i < season; i++)
                {
                    seasonal[g * season + i] = first[i] - mean;
                }
            }
        }
        initIndex = t;
        if (fitHorizon > 1)
        {
            final int slot = (int)(t % fitHorizon);
            final int ahead = season > 0 ? (int)((t + fitHorizon) % season) : 0;
            for (int g = 0; g < points; g++)
            {
                pastForecast[g * fitHorizon + slot] = level[g] + (season > 0 ? seasonal[g * season + ahead] : 0);
            }
        }
    }

    /** The block ends: its errors join the window's, and the set with the least over the window forecasts. */
    private void refit()
    {
        final int block = (int)(blocksDone % blocks);
        System.arraycopy(partial, 0, blockError, block * points, points);
        java.util.Arrays.fill(partial, 0);
        blocksDone++;
        final int inWindow = (int)Math.min(blocksDone, blocks);
        int best = 0;
        double least = Double.POSITIVE_INFINITY;
        for (int g = 0; g < points; g++)
        {
            double sum = 0;
            for (int k = 0; k < inWindow; k++)
            {
                sum += blockError[k * points + g];
            }
            if (sum < least)
            {
                least = sum;
                best = g;
            }
        }
        selected = best;
    }

    private int argmin(final double[] errors, final int offset)
    {
        int best = 0;
        for (int g = 1; g < points; g++)
        {
            if (errors[offset + g] < errors[offset + best])
            {
                best = g;
            }
        }
        return best;
    }

    @Override
    public double forecast(final int horizon)
    {
        Forecasts.checkHorizon(this, horizon, historyReason);
        final int g = selected;
        final double s = season > 0 ? seasonal[g * season + (int)((observed - 1 + horizon) % season)] : 0;
        return level[g] + phiSum(phi[g], horizon) * trend[g] + s;
    }

    /** @return φ + φ² + … + φ^h. */
    private static double phiSum(final double phi, final int h)
    {
        return phi == 1.0 ? h : phi * (1 - Math.pow(phi, h)) / (1 - phi);
    }

    @Override
    public long observed()
    {
        return observed;
    }

    @Override
    public int minHistory()
    {
        return season > 0 ? 2 * season : 2;
    }
}
