package io.vmsched.sim;

import io.vmsched.balance.BalanceDecision;

import java.util.List;
import java.util.Map;

/**
 * The summary of one simulation run.
 *
 * @param hosts                hosts.
 * @param vms                  VMs.
 * @param steps                steps run.
 * @param policy               policy name.
 * @param migrations           migrations started.
 * @param displacedVms         VMs whose final host differs from their first.
 * @param initialCv            CV of host loads before any balancing.
 * @param finalCv              CV at the end of the last step.
 * @param meanCv               average over steps of the CV at the end of each step.
 * @param initialMaxOverMean   max / mean host load before balancing.
 * @param maxOverMean          max / mean host load at the end.
 * @param stepsToConverge      first step (1-based) whose CV was at most 0.05, or null.
 * @param lowerBoundMigrations fewest migrations that could balance the initial loads.
 * @param exchanges            exchanges performed.
 * @param wallMillis           wall time of the run.
 * @param cvByStep             CV at the end of each step.
 * @param decisionsRecorded    dry-run decisions recorded.
 * @param decisions            the first dry-run decisions, with their reasons.
 * @param addedHosts           hosts of the last addition ({@code --add-hosts}), or null if none.
 * @param addedFilledAfter     balance periods from that addition until every host it added was within
 *                             10 % of the cluster's mean load, or null (none added, or never).
 * @param rules                how the placement rules fared, or null if none were in force.
 * @param drains               each host drained ({@code --drain}), in the order given; empty if none.
 * @param balloon              how the balloon fared ({@code --balloon}), or null if it was off.
 */
public record SimulationResult(
    int hosts,
    int vms,
    int steps,
    String policy,
    long migrations,
    long displacedVms,
    double initialCv,
    double finalCv,
    double meanCv,
    double initialMaxOverMean,
    double maxOverMean,
    Integer stepsToConverge,
    long lowerBoundMigrations,
    long exchanges,
    long wallMillis,
    double[] cvByStep,
    long decisionsRecorded,
    List<BalanceDecision> decisions,
    Integer addedHosts,
    Integer addedFilledAfter,
    Rules rules,
    List<Drain> drains,
    Balloon balloon)
{
    /**
     * How the balloon fared ({@code --balloon}, issue 19): each host's turn ran the runtime's
     * {@link io.vmsched.balloon.BalloonPolicy} on its memory, and simulated guests answered (each frees down
     * to its demand x (1 - reclaimable), a modelling assumption).
     *
     * @param inflateAbove      the band's top: a host's memory share above which it asks.
     * @param deflateBelow      the band's bottom: below it, it gives memory back.
     * @param reclaimable       the share of a guest's demand it can free.
     * @param inflations        requests to give memory.
     * @param deflations        requests to take memory back.
     * @param byOutcome         requests to give memory by outcome (MET, SHORT, REFUSED), by the outcome's name
     *                          (a deflation always succeeds: counted in deflations only).
     * @param reclaimedTotal    bytes the balloons freed, summed over the run's requests.
     * @param reclaimedPeak     the most memory the balloons kept out of the hosts at once: the ballooned guests'
     *                          demand above what they held, at the end of a step (their demand grown above their
     *                          targets counts too, so it may exceed the total their answers freed).
     * @param reclaimedAtEnd    the same at the end of the run.
     * @param returnedTotal     bytes given back by deflating, summed.
     * @param heldTurns         host turns that held their migrations while balloons could still free the excess.
     * @param belowFloorVmSteps VM-steps in which a ballooned guest's demand had grown past its balloon beyond its
     *                          cache (its target below demand x (1 - reclaimable)): the guest's cost, it pages.
     * @param hostsOverAtEnd    hosts over the band's top at the end.
     * @param maxMemoryShareAtEnd the largest host's memory share at the end.
     */
    public record Balloon(double inflateAbove, double deflateBelow, double reclaimable, long inflations,
        long deflations, Map<String, Long> byOutcome, long reclaimedTotal, long reclaimedPeak, long reclaimedAtEnd,
        long returnedTotal, long heldTurns, long belowFloorVmSteps, int hostsOverAtEnd, double maxMemoryShareAtEnd)
    {
    }

    /**
     * How one host's drain went ({@code --drain HOST@STEP}): from STEP on the host took no VM and its
     * VMs left by its drain turns ({@link io.vmsched.placement.Repair#evacuate}, the runtime's). The CV
     * of a step is that of the hosts in service (those not drained), so an emptied host does not count
     * as imbalance.
     *
     * @param host         the host.
     * @param startStep    the step it started at (as given: the step index, steps before it being 0 .. STEP - 1).
     * @param emptyStep    the step in which its last VM left (same numbering), or null if it never emptied.
     * @param vmsAtStart   VMs on it as the drain started.
     * @param vmsLeft      VMs on it at the end of the run (0 if it emptied: none comes back).
     * @param migrations   migrations its drain turns started.
     * @param meanCvBefore mean of the steps' CV before the drain started.
     * @param meanCvDuring mean CV over the drain's steps, from its start to the step it emptied in (to the
     *                     end if it never did).
     * @param meanCvSince  mean CV from its start to the end of the run.
     * @param blocked      if it never emptied: the VMs its last turn could move nowhere, each with why
     *                     (the hard rule or limit that refused it, and on which host); else empty.
     */
    public record Drain(int host, int startStep, Integer emptyStep, int vmsAtStart, int vmsLeft, long migrations,
        double meanCvBefore, double meanCvDuring, double meanCvSince, Map<Long, String> blocked)
    {
        /** @return whether it emptied. */
        public boolean complete()
        {
            return emptyStep != null;
        }

        /** @return steps it took to empty (1: within its first step), or null if it never did. */
        public Integer steps()
        {
            return emptyStep == null ? null : emptyStep - startStep + 1;
        }
    }

    /**
     * How the placement rules fared in a run. A rule is broken when it does not
     * {@linkplain io.vmsched.placement.Constraints#holds hold} (a pair on one host, a VM off its label);
     * counted when they come into force, after every balance period (after every step for greedy and
     * none) and at the end.
     *
     * @param rules            rules in force.
     * @param hardRules        of them, hard.
     * @param fromStep         the step they came into force at (0: the initial placement honoured them).
     * @param initialHard      hard rules broken as they came into force.
     * @param initialSoft      soft rules broken then.
     * @param hardBroken       hard rules broken at the end.
     * @param softBroken       soft rules broken at the end.
     * @param maxHardBroken    the most hard rules broken at once, from when they came into force.
     * @param maxSoftBroken    the most soft rules broken at once.
     * @param admittedElsewhere VMs the initial placement put elsewhere than {@code --initial} said, to keep their rules.
     * @param repairs          migrations the repair turns started (counted in the migrations too).
     * @param refusedOnArrival migrations the target refused as they arrived, a hard rule broken by then
     *                         (only when migrations take steps).
     */
    public record Rules(int rules, int hardRules, int fromStep, int initialHard, int initialSoft, int hardBroken,
        int softBroken, int maxHardBroken, int maxSoftBroken, int admittedElsewhere, long repairs, long refusedOnArrival)
    {
    }
}
