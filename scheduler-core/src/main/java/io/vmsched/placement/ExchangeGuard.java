package io.vmsched.placement;

import io.vmsched.balance.HostView;
import io.vmsched.balance.PlacementRule;
import io.vmsched.balance.Rejection;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * The balancer's exchange honouring the rules, the same in the runtime and the simulator: a candidate
 * may go to the peer only if it breaks none of its rules there, soft ones included (the balancer never
 * breaks a rule it keeps; it is the operator's to break one), and the peer's limits take it.
 * <p>
 * <b>Note:</b> Not threadsafe: the exchanging host's thread (or the simulator's); allocates nothing once its
 * slots have grown to the host's VM count.
 */
public final class ExchangeGuard implements PlacementRule
{
    private final Supplier<Constraints> rules;
    private final Constraints.Locator where;
    private final PlacementRule limits;
    // The compiled rules of the VM last checked in each candidate slot, from slotsFor. Invariant: an entry is
    // used only if the VM id in the slot now and the constraints read now are those it was looked up for; as
    // Constraints are immutable (every change of a rule, service, label or drain compiles a new instance), a
    // matching entry is what the lookup would answer, so no change can leave a stale one in use. It saves the
    // hash lookup for every slot whose VM is the one it held at the host's last check (docs/performance.md).
    private Constraints slotsFor;
    private long[] slotIds = new long[0];
    private Constraints.VmRules[] slotRules = new Constraints.VmRules[0];

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

    /** The closed peer and each candidate's host-label rules: one mask test a candidate, no other VM located. */
    @Override
    public void screen(final HostView view, final int peer, final int count, final Rejection[] blocked,
        final String[] names)
    {
        final Constraints constraints = rules.get();
        final String closed = constraints.closedReason(peer);
        if (closed == null && (constraints.ruleCount() == 0 || constraints.labelsHold(peer)))
        {
            return; // the peer breaks no label rule of any VM: nothing to tell at little cost
        }
        for (int i = 0; i < count; i++)
        {
            if (blocked[i] == Rejection.NONE)
            {
                final long vmId = view.vmId(i);
                final Constraints.VmRules own = closed != null ? null : rulesAt(constraints, i, vmId);
                if (closed != null || constraints.breaksLabel(own, peer))
                {
                    blocked[i] = Rejection.RULE;
                    if (names != null)
                    {
                        names[i] = closed != null ? closed :
                            constraints.rule(constraints.refusal(own, vmId, peer, where)).name();
                    }
                }
            }
        }
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
            final int broken = constraints.refusal(rulesAt(constraints, vm, vmId), vmId, peer, where);
            if (broken >= 0)
            {
                return constraints.rule(broken).name();
            }
        }
        return limits == null ? null : limits.refuses(view, vm, peer);
    }

    /** The rules of {@code vmId}, in candidate slot {@code slot}: from the slot if it holds them (see slotsFor). */
    private Constraints.VmRules rulesAt(final Constraints constraints, final int slot, final long vmId)
    {
        if (constraints == slotsFor && slot < slotIds.length)
        {
            final Constraints.VmRules cached = slotRules[slot];
            if (cached != null && slotIds[slot] == vmId)
            {
                return cached;
            }
        }
        else if (constraints != slotsFor)
        {
            Arrays.fill(slotRules, null);
            slotsFor = constraints;
        }
        if (slot >= slotIds.length)
        {
            final int length = Math.max(slot + 1, slotIds.length * 2);
            slotIds = Arrays.copyOf(slotIds, length);
            slotRules = Arrays.copyOf(slotRules, length);
        }
        final Constraints.VmRules found = constraints.rulesFor(vmId);
        slotIds[slot] = vmId;
        slotRules[slot] = found;
        return found;
    }
}
