package io.vmsched.placement;

import io.vmsched.balance.BalanceConfig;
import io.vmsched.balance.Exchange;
import io.vmsched.balance.HostView;
import io.vmsched.balance.PlacementRule;

/**
 * One host's repair turn, the same in the runtime and the simulator: mend the rules this host's VMs
 * break where they run (a rule added live, a soft rule an admission had to break, a VM the operator
 * moved). For each VM this host should move ({@link Constraints#shouldMove}: of an anti-affinity group
 * sharing a host, all but the lowest id; of a split affinity group, those away from where most of it
 * runs; a VM on a host its label rule forbids), start a migration to where the rule points
 * ({@link Constraints#mendTowards}) or else to the least loaded up peer that keeps every rule of the VM
 * (for a broken hard rule, at least every hard one) and whose limits take it. Never to a host where a
 * hard rule would break; the runtime's target checks again as the VM arrives.
 * <p>
 * <b>Note:</b> Stateless; called on the host's own thread. Allocates nothing.
 */
public final class Repair
{
    /** Repairs a host starts in one turn at most (a rule added live is mended over a few periods, not in one burst). */
    public static final int PER_TURN = 4;

    private Repair()
    {
    }

    /**
     * @param config   the host's balance settings.
     * @param inFlight migrations it has in flight as the source.
     * @return repairs it may start this turn: {@link #PER_TURN}, within the moves an exchange may
     *         start ({@link BalanceConfig#movesAllowed}); 0 when no room is left.
     */
    public static int budget(final BalanceConfig config, final int inFlight)
    {
        final int allowed = config.movesAllowed(inFlight);
        return allowed < 0 ? 0 : allowed == 0 ? PER_TURN : Math.min(allowed, PER_TURN);
    }

    /**
     * Run one turn.
     *
     * @param rules   the rules in force.
     * @param view    the host.
     * @param where   where VMs are.
     * @param limits  the capacity check of a move (the peer's limits), null for none.
     * @param most    migrations to start at most.
     * @param actions what starts a migration ({@link Exchange.Actions#migrate}).
     * @return migrations started.
     */
    public static int run(final Constraints rules, final HostView view, final Constraints.Locator where,
        final PlacementRule limits, final int most, final Exchange.Actions actions)
    {
        if (rules.ruleCount() == 0 || most <= 0)
        {
            return 0;
        }
        final int self = view.hostId();
        int started = 0;
        for (int i = 0, n = view.vmCount(); i < n && started < most; i++)
        {
            if (view.movingTo(i) >= 0 || view.pinned(i))
            {
                continue;
            }
            final long vmId = view.vmId(i);
            final int[] own = rules.rulesOf(vmId);
            for (final int r : own)
            {
                if (!rules.shouldMove(r, vmId, self, where))
                {
                    continue;
                }
                final boolean soft = !rules.rule(r).hard();
                int target = rules.mendTowards(r, vmId, where);
                if (target < 0 || !allowed(rules, view, where, limits, i, vmId, own, target, soft))
                {
                    target = pick(rules, view, where, limits, i, vmId, own, soft);
                }
                if (target >= 0)
                {
                    actions.migrate(vmId, i, target, view.vmLoad(i), view.vmLoadOn(i, target));
                    started++;
                }
                break; // one decision per VM and turn
            }
        }
        return started;
    }

    /** Where an evacuation learns of a VM that can go nowhere now, and why. */
    @FunctionalInterface
    public interface Blocked
    {
        /**
         * @param vmId  the VM.
         * @param cause a constant word: the name of the hard rule or the limit that refused it on the last
         *              host tried, {@code pinned}, or {@code no open host up}.
         * @param host  the host that refused it for {@code cause}, -1 if none.
         */
        void blocked(long vmId, String cause, int host);
    }

    /** What {@link Blocked} is told of a pinned VM. */
    public static final String PINNED = "pinned";
    /** What {@link Blocked} is told when no other host is up and open. */
    public static final String NO_HOST = "no open host up";

    /** A draining host's VMs in flight away at most, by default (the runtime's and the simulator's). */
    public static final int DRAIN_PARALLEL = 4;

    /**
     * How many migrations a draining host's turn may start: its VMs in flight away are at most
     * {@code parallel} (the runtime's {@code HostConfig.drainParallel}), the simulator's too.
     *
     * @param parallel the most in flight at once.
     * @param inFlight migrations it has in flight as the source now.
     * @return migrations the turn may start, 0 or more.
     */
    public static int drainBudget(final int parallel, final int inFlight)
    {
        return Math.max(0, parallel - inFlight);
    }

    /**
     * What an operator reads of a VM a drain cannot move ({@link Blocked}'s cause and host as one text).
     *
     * @param cause the cause.
     * @param host  the host that refused it, -1 if none.
     * @return {@code cause}, or {@code cause (host N)}.
     */
    public static String blockedText(final String cause, final int host)
    {
        return host < 0 ? cause : cause + " (host " + host + ")";
    }

    /**
     * A draining host's turn: start moving up to {@code most} of its VMs away, each to the least loaded up,
     * open peer that keeps every hard rule of the VM (one keeping its soft rules too if any does) and whose
     * limits take it: the placement's own choice, as repair's. A VM that can go nowhere is reported (a drain
     * is never a silent hang) and tried again next turn.
     *
     * @param rules   the rules in force (with the closed hosts).
     * @param view    the draining host.
     * @param where   where VMs are.
     * @param limits  the capacity check of a move, null for none.
     * @param most    migrations to start at most.
     * @param actions what starts a migration.
     * @param blocked told of each VM that can go nowhere now.
     * @return migrations started.
     */
    public static int evacuate(final Constraints rules, final HostView view, final Constraints.Locator where,
        final PlacementRule limits, final int most, final Exchange.Actions actions, final Blocked blocked)
    {
        int started = 0;
        for (int i = 0, n = view.vmCount(); i < n && started < most; i++)
        {
            if (view.movingTo(i) >= 0)
            {
                continue;
            }
            final long vmId = view.vmId(i);
            if (view.pinned(i))
            {
                blocked.blocked(vmId, PINNED, -1);
                continue;
            }
            final int[] own = rules.rulesOf(vmId);
            final int target = pick(rules, view, where, limits, i, vmId, own, false);
            if (target >= 0)
            {
                actions.migrate(vmId, i, target, view.vmLoad(i), view.vmLoadOn(i, target));
                started++;
                continue;
            }
            // say why: the refusal of the least loaded open host up
            int refusedBy = -1;
            String cause = NO_HOST;
            double least = Double.POSITIVE_INFINITY;
            for (int peer = 0, hosts = view.hosts(); peer < hosts; peer++)
            {
                final double load = view.peerLoad(peer);
                if (peer == view.hostId() || Double.isNaN(load) || rules.closed(peer) || load >= least)
                {
                    continue;
                }
                final int broken = rules.breaks(own, vmId, peer, where, false, false);
                final String limit = broken >= 0 || limits == null ? null : limits.refuses(view, i, peer);
                if (broken >= 0 || limit != null)
                {
                    least = load;
                    refusedBy = peer;
                    cause = broken >= 0 ? rules.rule(broken).name() : limit;
                }
            }
            blocked.blocked(vmId, cause, refusedBy);
        }
        return started;
    }

    private static boolean allowed(final Constraints rules, final HostView view, final Constraints.Locator where,
        final PlacementRule limits, final int vm, final long vmId, final int[] own, final int peer, final boolean soft)
    {
        if (peer == view.hostId() || peer < 0 || peer >= view.hosts() || Double.isNaN(view.peerLoad(peer)) ||
            rules.closed(peer))
        {
            return false;
        }
        if (rules.breaks(own, vmId, peer, where, soft, false) >= 0)
        {
            return false;
        }
        return limits == null || limits.refuses(view, vm, peer) == null;
    }

    /** The least loaded peer that keeps every rule of the VM (or, failing that and {@code !soft}, every hard one); -1 if none. */
    private static int pick(final Constraints rules, final HostView view, final Constraints.Locator where,
        final PlacementRule limits, final int vm, final long vmId, final int[] own, final boolean soft)
    {
        int best = -1;
        boolean bestKeepsSoft = false;
        double bestLoad = 0;
        for (int peer = 0, n = view.hosts(); peer < n; peer++)
        {
            if (!allowed(rules, view, where, limits, vm, vmId, own, peer, false))
            {
                continue;
            }
            final boolean keepsSoft = rules.breaks(own, vmId, peer, where, true, false) < 0;
            if (soft && !keepsSoft)
            {
                continue; // a soft rule is mended only by a move that breaks none
            }
            final double load = view.peerLoad(peer);
            if (best < 0 || keepsSoft && !bestKeepsSoft || keepsSoft == bestKeepsSoft && load < bestLoad)
            {
                best = peer;
                bestKeepsSoft = keepsSoft;
                bestLoad = load;
            }
        }
        return best;
    }
}
