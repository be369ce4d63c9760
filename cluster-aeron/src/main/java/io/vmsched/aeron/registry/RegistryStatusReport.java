package io.vmsched.aeron.registry;

import io.vmsched.placement.Constraints;
import io.vmsched.placement.Placement;
import io.vmsched.placement.Service;
import io.vmsched.placement.ServiceJudge;
import io.vmsched.placement.StatusReport;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The status of a cluster across machines as its registry sees it: each service with its VMs, the node
 * that owns each (the owner table) and whether that node is up, and each rule with whether it holds, judged
 * by {@link ServiceJudge} as the embedded cluster judges them. A VM counts as running when its owner node is
 * up (the registry does not see a VM suspended inside a node: that node's own log says so).
 * <p>
 * <b>Note:</b> Uses the client, which is single-threaded: call it on the client's thread.
 */
public final class RegistryStatusReport
{
    private RegistryStatusReport()
    {
    }

    /**
     * Read the placement, the directory and the owner of every VM a service or rule names (one QUERY each).
     *
     * @param client a connected client.
     * @return the report; host ids are node ids - 1, as the nodes number their hosts.
     */
    public static StatusReport read(final RegistryClient client)
    {
        final RegistryClient.PlacementCopy copy = client.placement();
        final List<RegistryClient.NodeInfo> nodes = client.directory();
        final Placement placement = new Placement();
        final Map<Integer, Boolean> up = new HashMap<>();
        for (final RegistryClient.NodeInfo node : nodes)
        {
            placement.hostLabels(node.nodeId() - 1, RegistryState.placementLabels(node.labels()));
            up.put(node.nodeId() - 1, node.up());
        }
        placement.replaceWith(copy.statements());
        final Map<Long, Integer> where = new HashMap<>();
        for (final long vm : named(placement))
        {
            final RegistryClient.Ownership entry = client.query(vm);
            if (RegistryStatus.OK == entry.status())
            {
                where.put(vm, entry.owner() - 1);
            }
        }
        return of(placement, host -> up.getOrDefault(host, false), vm -> where.getOrDefault(vm, -1),
            System.currentTimeMillis());
    }

    /**
     * @param placement the services and rules (with the nodes' labels as hosts' labels).
     * @return every VM a service or a rule names, in the placement's order.
     */
    static Set<Long> named(final Placement placement)
    {
        final Constraints rules = placement.constraints();
        final Set<Long> named = new LinkedHashSet<>();
        for (final Service service : placement.services())
        {
            for (final long vm : placement.members(service.name()))
            {
                named.add(vm);
            }
        }
        for (int r = 0; r < rules.ruleCount(); r++)
        {
            for (final long vm : rules.rule(r).service() != null ? rules.membersOf(r) : rules.rule(r).vms())
            {
                named.add(vm);
            }
        }
        return named;
    }

    /**
     * The status from the registry's tables: the one judgement, used by {@link #read} on a client and by the
     * registry itself for its status events ({@link RegistryState#serviceChanges}). Pure: the same tables give
     * the same report.
     *
     * @param placement the services and rules.
     * @param up        whether a host (node id - 1) is up.
     * @param at        the host of a VM (its owner node id - 1), -1 if none.
     * @param nowMs     the report's time, ms since the epoch.
     * @return the report.
     */
    static StatusReport of(final Placement placement, final java.util.function.IntPredicate up, final Constraints.Locator at,
        final long nowMs)
    {
        final Constraints rules = placement.constraints();
        final List<List<Long>> breakingOf = new ArrayList<>();
        final List<StatusReport.RuleReport> ruleReports = ServiceJudge.rules(rules, at, breakingOf);
        final List<StatusReport.ServiceReport> services = new ArrayList<>();
        for (final Service service : placement.services())
        {
            final long[] members = placement.members(service.name());
            final List<StatusReport.VmReport> vms = new ArrayList<>();
            int running = 0;
            String degraded = null;
            for (final long vm : members)
            {
                final int host = at.hostOf(vm);
                final boolean hostUp = host >= 0 && up.test(host);
                final String state = host < 0 ? "absent" : hostUp ? "running" : "node down";
                running += hostUp ? 1 : 0;
                if (host >= 0 && !hostUp && degraded == null)
                {
                    degraded = "vm " + vm + "'s node (host " + host + ") is down";
                }
                vms.add(new StatusReport.VmReport(vm, host, state, Double.NaN));
            }
            final ServiceJudge.Verdict verdict = ServiceJudge.judge(service, running, rules, breakingOf, members, degraded);
            services.add(new StatusReport.ServiceReport(service, verdict.health(), verdict.cause(), nowMs, List.copyOf(vms)));
        }
        return new StatusReport(List.copyOf(services), List.copyOf(ruleReports));
    }
}
