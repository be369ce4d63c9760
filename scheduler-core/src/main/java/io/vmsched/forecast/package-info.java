/**
 * Forecasts of demand, for the inventory's anticipation (issue 18): a {@link io.vmsched.forecast.Forecaster}
 * observes one value a step and forecasts h steps ahead, allocation-free after construction. The naive and
 * seasonal-naive baselines, Holt-Winters additive (Holt's linear trend without a season) with its
 * parameters chosen adaptively from the history, the capacity questions
 * ({@link io.vmsched.forecast.CapacityForecast}: when demand runs out at the current trend, how many hosts
 * the next H steps need) and an evaluation on the simulator's traces
 * ({@link io.vmsched.forecast.ForecastEvaluation}). Results: {@code docs/forecasting.md}.
 */
package io.vmsched.forecast;
