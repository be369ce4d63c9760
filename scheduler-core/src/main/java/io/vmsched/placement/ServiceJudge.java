package io.vmsched.placement;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How a service's status follows from its VMs and its rules (REL claim 7): the one judgement the embedded
 * cluster's service watch, the offline status and the registry's status across machines all make.
 * <ul>
 *   <li>{@code failed}: a hard rule over it is broken, or fewer VMs run than its minimum;</li>
 *   <li>{@code degraded}: a VM suspended or failed, a member migrating for longer than the bound, a soft rule
 *       broken, or fewer VMs run than its desired size;</li>
 *   <li>{@code healthy}: otherwise.</li>
 * </ul>
 * Stateless; threadsafe.
 */
public final class ServiceJudge
{
    private ServiceJudge()
    {
    }

    /**
     * A service's status with its cause.
     *
     * @param health the status.
     * @param cause  why, in words.
     */
    public record Verdict(ServiceHealth health, String cause)
    {
    }

    /**
     * @param service   the service.
     * @param running   its VMs running (a migrating one counts: it runs on one host or the other).
     * @param rules     the rules in force.
     * @param breakingOf for each rule (by index), the VMs breaking it where they run ({@link #breaking}).
     * @param members   the service's VMs.
     * @param degraded  the first VM-level cause of degradation (a VM suspended, a slow migration), or null.
     * @return the verdict.
     */
    public static Verdict judge(final Service service, final int running, final Constraints rules,
        final List<List<Long>> breakingOf, final long[] members, final String degraded)
    {
        String hardBroken = null;
        String softBroken = null;
        for (int r = 0; r < rules.ruleCount(); r++)
        {
            final Rule rule = rules.rule(r);
            final List<Long> breaking = breakingOf.get(r);
            if (breaking.isEmpty() || !covers(rule, service.name(), members))
            {
                continue;
            }
            final String cause = rule.describe() + " broken by vm " + breaking.get(0);
            if (rule.hard() && hardBroken == null)
            {
                hardBroken = cause;
            }
            else if (!rule.hard() && softBroken == null)
            {
                softBroken = cause;
            }
        }
        if (hardBroken != null)
        {
            return new Verdict(ServiceHealth.FAILED, hardBroken);
        }
        if (running < service.minRunning())
        {
            return new Verdict(ServiceHealth.FAILED, running + " VMs running, fewer than its minimum " + service.minRunning());
        }
        if (degraded != null || softBroken != null || running < service.desiredSize())
        {
            return new Verdict(ServiceHealth.DEGRADED, degraded != null ? degraded : softBroken != null ? softBroken :
                running + " VMs running of its size " + service.desiredSize());
        }
        return new Verdict(ServiceHealth.HEALTHY,
            "all " + running + " VMs running" + (rules.ruleCount() > 0 ? ", its rules hold" : ""));
    }

    /**
     * @param rule    a rule.
     * @param service a service's name.
     * @param members its VMs.
     * @return whether the rule covers the service (names it, or one of its VMs).
     */
    public static boolean covers(final Rule rule, final String service, final long[] members)
    {
        if (service.equals(rule.service()))
        {
            return true;
        }
        final long[] vms = rule.vms();
        if (vms == null)
        {
            return false;
        }
        for (final long vm : members)
        {
            if (Arrays.binarySearch(vms, vm) >= 0)
            {
                return true;
            }
        }
        return false;
    }

    /**
     * @param rules the rules.
     * @param r     a rule's index.
     * @param where where the VMs run.
     * @return the VMs that break the rule where they run (none if it holds).
     */
    public static List<Long> breaking(final Constraints rules, final int r, final Constraints.Locator where)
    {
        final List<Long> out = new ArrayList<>();
        if (rules.holds(r, where))
        {
            return out;
        }
        final int[] only = {r};
        for (final long vm : rules.rule(r).service() != null ? rules.membersOf(r) : rules.rule(r).vms())
        {
            final int host = where.hostOf(vm);
            if (host >= 0 && rules.breaks(only, vm, host, where, true, false) >= 0)
            {
                out.add(vm);
            }
        }
        return out;
    }

    /**
     * Every rule's report: whether it holds, and the VMs breaking it.
     *
     * @param rules      the rules.
     * @param where      where the VMs run.
     * @param breakingOf receives, for each rule, the VMs breaking it.
     * @return the reports, by rule index.
     */
    public static List<StatusReport.RuleReport> rules(final Constraints rules, final Constraints.Locator where,
        final List<List<Long>> breakingOf)
    {
        final List<StatusReport.RuleReport> reports = new ArrayList<>();
        for (int r = 0; r < rules.ruleCount(); r++)
        {
            final List<Long> breaking = breaking(rules, r, where);
            breakingOf.add(breaking);
            reports.add(new StatusReport.RuleReport(rules.rule(r), breaking.isEmpty(), List.copyOf(breaking)));
        }
        return reports;
    }
}
