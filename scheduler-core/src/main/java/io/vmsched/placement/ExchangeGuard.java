package io.vmsched.placement;

import io.vmsched.balance.HostView;
import io.vmsched.balance.PlacementRule;

import java.util.function.Supplier;

/**
 * The balancer's exchange honouring the rules, the same in the runtime and the simulator: a candidate
 * may go to the peer only if it breaks none of its rules there, soft ones included (the balancer never
 * breaks a rule it keeps; it is the operator's to break one), and the peer's limits take it.
 * <p>
 * <b>Note:</b> Called on the exchanging host's thread; allocates nothing.
 */
public final class ExchangeGuard implements PlacementRule
{
    private final Supplier<Constraints> rules;
    private final Constraints.Locator where;
    private final PlacementRule limits;

    /**
     * @param rules  the rules in force, read at each check (a live cluster's change as soon as it is made).
     * @param where  where VMs are.
     * @param limits the peer's capacity limits, null for none.
     */
    public ExchangeGuard(final Supplier<Constraints> rules, final Constraints.Locator where, final PlacementRule limits)
    {
        this.rules = rules;
        this.where = where;
        this.limits = limits;
    }

    @Override
    public boolean closed(final int host)
    {
        return rules.get().closed(host);
    }

    @Override
    public String refuses(final HostView view, final int vm, final int peer)
    {
        final Constraints constraints = rules.get();
        final String closed = constraints.closedReason(peer);
        if (closed != null)
        {
            return closed; // draining or removed: it takes no VM
        }
        if (constraints.ruleCount() > 0)
        {
            final long vmId = view.vmId(vm);
            final int broken = constraints.breaks(constraints.rulesOf(vmId), vmId, peer, where, true, false);
            if (broken >= 0)
            {
                return constraints.rule(broken).name();
            }
        }
        return limits == null ? null : limits.refuses(view, vm, peer);
    }
}
