package io.vmsched.placement;

import org.agrona.collections.Long2ObjectHashMap;
import org.agrona.collections.Object2IntHashMap;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rules in force, compiled for checking where a placement is decided: each VM's rules (hard ones
 * first), each rule's VMs (a service's resolved to its members), each label a bit and each host the
 * mask of the rules' labels it carries. One check serves admission, explicit migration, the balancer's
 * exchange, repair and the simulator.
 * <p>
 * Immutable: {@link Placement} compiles a new one on every change and publishes it; readers on any
 * thread read the one they got. A check allocates nothing.
 */
public final class Constraints
{
    /** Where VMs are, as the caller knows it. */
    @FunctionalInterface
    public interface Locator
    {
        /**
         * @param vmId a VM.
         * @return the host it runs on, or a negative number if it is nowhere the caller knows of (not in
         *         the cluster, or, for a host that knows only itself, on another host).
         */
        int hostOf(long vmId);
    }

    /** No rules. */
    public static final Constraints NONE = new Constraints(new Rule[0], new long[0][], new long[0], new long[0],
        new Long2ObjectHashMap<>(), new HashMap<>(), 0, 0, new byte[0]);

    /**
     * One VM's rules compiled for the checks: the rules in check order ({@link #hardFirst}), and for the
     * exchange's check of all of them at once ({@link #refusal}) the label bits it needs and shuns, the other
     * VMs of its small anti-affinity rules, and its other VM-VM rules. Immutable, as the constraints it
     * belongs to.
     */
    static final class VmRules
    {
        final int[] ordered;
        // ON_LABEL rules' bits (a host lacking one breaks a rule) and OFF_LABEL rules' (a host carrying one does)
        final long needs;
        final long shuns;
        // the VM-VM rules of ordered, in its order: when no label rule is broken, the first of these broken is
        // the first of all broken
        final int[] pairs;
        // the other VMs of its anti-affinity rules of at most PARTNERS_FROM VMs (sorted, unique): one of them
        // on a host breaks one of those rules there, and only then
        final long[] partners;
        // pairs less those anti-affinity rules, in the same order
        final int[] rest;

        VmRules(final int[] ordered, final long needs, final long shuns, final int[] pairs, final long[] partners,
            final int[] rest)
        {
            this.ordered = ordered;
            this.needs = needs;
            this.shuns = shuns;
            this.pairs = pairs;
            this.partners = partners;
            this.rest = rest;
        }
    }

    /**
     * Anti-affinity rules of at most this many VMs have their VMs copied into each member's partners (a
     * flat walk, no rule to look up); larger ones (a service's) are walked by rule, so a rule of n VMs costs
     * at most n x PARTNERS_FROM copies, not n squared.
     */
    static final int PARTNERS_FROM = 16;

    // a rule's kind as the checks switch on it: an int, read from an array, not the enum through the rule
    private static final byte AFFINITY = 0;
    private static final byte ANTI_AFFINITY = 1;
    private static final byte ON_LABEL = 2;
    private static final byte OFF_LABEL = 3;

    /** What {@link #closedReason} says of a host being drained. */
    public static final String DRAINING = "draining";
    /** What {@link #closedReason} says of a host removed from the cluster. */
    public static final String REMOVED = "removed";

    private static final int[] NO_RULES = new int[0];
    /** A VM in no rule. */
    static final VmRules NO_VM_RULES = new VmRules(NO_RULES, 0, 0, NO_RULES, new long[0], NO_RULES);

    private final Rule[] rules;
    private final long[][] members;
    private final long[] labelBit;
    private final long[] hostMask;
    // by rule: its kind (AFFINITY .. OFF_LABEL) and whether it is hard, for the checks
    private final byte[] kinds;
    private final boolean[] hards;
    // every ON_LABEL rule's bit, every OFF_LABEL rule's: a host carrying all of the one and none of the other
    // breaks no host-label rule of any VM
    private final long needed;
    private final long shunned;
    private final Long2ObjectHashMap<VmRules> byVm;
    private final Map<String, int[]> byService;
    private final int hosts;
    private final int hardCount;
    // by host: 0 open, 1 draining, 2 removed: a closed host takes no VM (admission, balancing, repair, migrate)
    private final byte[] closed;
    private final int closedCount;

    private Constraints(final Rule[] rules, final long[][] members, final long[] labelBit, final long[] hostMask,
        final Long2ObjectHashMap<VmRules> byVm, final Map<String, int[]> byService, final int hosts, final int hardCount,
        final byte[] closed)
    {
        this.closed = closed;
        int count = 0;
        for (final byte c : closed)
        {
            count += c != 0 ? 1 : 0;
        }
        this.closedCount = count;
        this.rules = rules;
        this.members = members;
        this.labelBit = labelBit;
        this.hostMask = hostMask;
        this.kinds = new byte[rules.length];
        this.hards = new boolean[rules.length];
        long needs = 0;
        long shuns = 0;
        for (int r = 0; r < rules.length; r++)
        {
            kinds[r] = kindCode(rules[r].kind());
            hards[r] = rules[r].hard();
            needs |= kinds[r] == ON_LABEL ? labelBit[r] : 0;
            shuns |= kinds[r] == OFF_LABEL ? labelBit[r] : 0;
        }
        this.needed = needs;
        this.shunned = shuns;
        this.byVm = byVm;
        this.byService = byService;
        this.hosts = hosts;
        this.hardCount = hardCount;
    }

    /**
     * @param rules       the rules in force.
     * @param serviceVms  each service's VMs.
     * @param hostLabels  each host's labels (index = host id).
     * @return the compiled rules.
     * @throws IllegalArgumentException if the rules use more than 64 distinct labels.
     */
    static Constraints compile(final List<Rule> rules, final Map<String, long[]> serviceVms,
        final List<Set<String>> hostLabels)
    {
        return compile(rules, serviceVms, hostLabels, new byte[0]);
    }

    /**
     * @param rules      the rules in force.
     * @param serviceVms each service's VMs.
     * @param hostLabels each host's labels (index = host id).
     * @param closed     by host: 0 open, 1 draining, 2 removed.
     * @return the compiled rules.
     */
    static Constraints compile(final List<Rule> rules, final Map<String, long[]> serviceVms,
        final List<Set<String>> hostLabels, final byte[] closed)
    {
        final Rule[] ordered = rules.toArray(new Rule[0]);
        final long[][] members = new long[ordered.length][];
        final long[] labelBit = new long[ordered.length];
        final Object2IntHashMap<String> bits = new Object2IntHashMap<>(-1);
        final Long2ObjectHashMap<List<Integer>> byVm = new Long2ObjectHashMap<>();
        final Map<String, List<Integer>> byService = new HashMap<>();
        int hard = 0;
        for (int r = 0; r < ordered.length; r++)
        {
            final Rule rule = ordered[r];
            hard += rule.hard() ? 1 : 0;
            members[r] = rule.service() != null ? serviceVms.getOrDefault(rule.service(), new long[0]) : rule.vmsShared();
            if (rule.label() != null)
            {
                int bit = bits.getValue(rule.label());
                if (bit < 0)
                {
                    bit = bits.size();
                    if (bit >= 64)
                    {
                        throw new IllegalArgumentException("rules may use at most 64 distinct labels");
                    }
                    bits.put(rule.label(), bit);
                }
                labelBit[r] = 1L << bit;
            }
            for (final long vm : members[r])
            {
                byVm.computeIfAbsent(vm, k -> new ArrayList<>()).add(r);
            }
            if (rule.service() != null)
            {
                byService.computeIfAbsent(rule.service(), k -> new ArrayList<>()).add(r);
            }
        }
        final long[] hostMask = new long[hostLabels.size()];
        for (int h = 0; h < hostMask.length; h++)
        {
            for (final String label : hostLabels.get(h))
            {
                final int bit = bits.getValue(label);
                if (bit >= 0)
                {
                    hostMask[h] |= 1L << bit;
                }
            }
        }
        final Long2ObjectHashMap<VmRules> vmRules = new Long2ObjectHashMap<>();
        byVm.forEach((vm, list) -> vmRules.put(vm, compileVm(vm, hardFirst(list, ordered), ordered, members, labelBit)));
        final Map<String, int[]> serviceRules = new HashMap<>();
        byService.forEach((service, list) -> serviceRules.put(service, hardFirst(list, ordered)));
        return new Constraints(ordered, members, labelBit, hostMask, vmRules, serviceRules, hostLabels.size(), hard,
            closed.clone());
    }

    /** A VM's rules (in check order) with what {@link #refusal} reads of them. */
    private static VmRules compileVm(final long vmId, final int[] ordered, final Rule[] rules, final long[][] members,
        final long[] labelBit)
    {
        long needs = 0;
        long shuns = 0;
        int pairCount = 0;
        int restCount = 0;
        int partnerCount = 0;
        for (final int r : ordered)
        {
            switch (rules[r].kind())
            {
                case ON_LABEL -> needs |= labelBit[r];
                case OFF_LABEL -> shuns |= labelBit[r];
                default ->
                {
                    pairCount++;
                    if (flat(rules[r], members[r]))
                    {
                        partnerCount += members[r].length;
                    }
                    else
                    {
                        restCount++;
                    }
                }
            }
        }
        final int[] pairs = new int[pairCount];
        final int[] rest = new int[restCount];
        long[] partners = new long[partnerCount];
        int p = 0;
        int q = 0;
        int n = 0;
        for (final int r : ordered)
        {
            if (rules[r].label() != null)
            {
                continue;
            }
            pairs[p++] = r;
            if (!flat(rules[r], members[r]))
            {
                rest[q++] = r;
                continue;
            }
            for (final long other : members[r])
            {
                if (other != vmId)
                {
                    partners[n++] = other;
                }
            }
        }
        partners = Arrays.copyOf(partners, n);
        Arrays.sort(partners);
        int unique = 0;
        for (int i = 0; i < partners.length; i++)
        {
            if (i == 0 || partners[i] != partners[i - 1])
            {
                partners[unique++] = partners[i];
            }
        }
        return new VmRules(ordered, needs, shuns, pairs, Arrays.copyOf(partners, unique), rest);
    }

    /** Whether a rule's VMs go into each member's partners ({@link #PARTNERS_FROM}). */
    private static boolean flat(final Rule rule, final long[] vms)
    {
        return rule.kind() == Rule.Kind.ANTI_AFFINITY && vms.length <= PARTNERS_FROM;
    }

    private static byte kindCode(final Rule.Kind kind)
    {
        switch (kind)
        {
            case AFFINITY:
                return AFFINITY;
            case ANTI_AFFINITY:
                return ANTI_AFFINITY;
            case ON_LABEL:
                return ON_LABEL;
            case OFF_LABEL:
                return OFF_LABEL;
            default:
                throw new IllegalStateException(kind.name());
        }
    }

    /**
     * A VM's rules in the order they are checked: hard ones first (a caller asking for hard ones only stops
     * at the first soft one), and within each, the host-label rules (one mask test each, and the ones most
     * often broken by a move: they rule out whole hosts) before the VM-VM ones (a walk over their members).
     */
    private static int[] hardFirst(final List<Integer> list, final Rule[] rules)
    {
        final int[] out = new int[list.size()];
        int n = 0;
        for (int pass = 0; pass < 4; pass++)
        {
            final boolean hard = pass < 2;
            final boolean label = (pass & 1) == 0;
            for (final int r : list)
            {
                if (rules[r].hard() == hard && (rules[r].label() != null) == label)
                {
                    out[n++] = r;
                }
            }
        }
        return out;
    }

    /**
     * @param host a host.
     * @return null if it takes VMs; else why not ({@link #DRAINING}, {@link #REMOVED}: constant strings).
     */
    public String closedReason(final int host)
    {
        if (host < 0 || host >= closed.length || closed[host] == 0)
        {
            return null;
        }
        return closed[host] == 1 ? DRAINING : REMOVED;
    }

    /**
     * @param host a host.
     * @return whether it takes no VM (drained or removed).
     */
    public boolean closed(final int host)
    {
        return host >= 0 && host < closed.length && closed[host] != 0;
    }

    /** @return whether anything constrains placement: a rule, or a host closed to new VMs. */
    public boolean active()
    {
        return rules.length > 0 || closedCount > 0;
    }

    /** @return rules in force. */
    public int ruleCount()
    {
        return rules.length;
    }

    /** @return hard rules in force. */
    public int hardRuleCount()
    {
        return hardCount;
    }

    /** @return hosts the label masks know of. */
    public int hosts()
    {
        return hosts;
    }

    /**
     * @param index a rule's index (what the checks return).
     * @return the rule.
     */
    public Rule rule(final int index)
    {
        return rules[index];
    }

    /** @return a rule's VMs, shared (this package reads them without a copy). */
    long[] members(final int index)
    {
        return members[index];
    }

    /** @return whether a VM-host rule forbids the host. */
    boolean breaksLabel(final int index, final int host)
    {
        final boolean carries = (mask(host) & labelBit[index]) != 0;
        return kinds[index] == ON_LABEL ? !carries : carries;
    }

    /**
     * @param index a rule's index.
     * @return its VMs now (a service's resolved to its members; a copy).
     */
    public long[] membersOf(final int index)
    {
        return members[index].clone();
    }

    /**
     * @param vmId a VM.
     * @return the indexes of the rules covering it, hard ones first (shared: do not change; empty if none).
     */
    public int[] rulesOf(final long vmId)
    {
        final VmRules found = byVm.get(vmId);
        return found == null ? NO_RULES : found.ordered;
    }

    /**
     * @param service a service.
     * @return the indexes of the rules covering it, hard ones first (what a VM admitted into it will obey).
     */
    public int[] rulesOfService(final String service)
    {
        final int[] found = service == null ? null : byService.get(service);
        return found == null ? NO_RULES : found;
    }

    /**
     * The first of {@code ruleIndexes} that {@code vmId} would break by running on {@code target}.
     *
     * @param ruleIndexes the VM's rules ({@link #rulesOf} or {@link #rulesOfService}), hard ones first.
     * @param vmId        the VM.
     * @param target      the host it would run on.
     * @param where       where the other VMs are.
     * @param soft        check soft rules as well as hard ones.
     * @param localOnly   the locator knows only the target's own VMs: affinity, which needs to know where
     *                    the others are, is left to the caller that does.
     * @return the rule's index, or -1 if none is broken.
     */
    public int breaks(final int[] ruleIndexes, final long vmId, final int target, final Locator where,
        final boolean soft, final boolean localOnly)
    {
        for (final int r : ruleIndexes)
        {
            if (!hards[r] && !soft)
            {
                return -1; // hard ones first: the rest are soft
            }
            if (breaks(r, vmId, target, where, localOnly))
            {
                return r;
            }
        }
        return -1;
    }

    /**
     * {@link #breaks(int[], long, int, Locator, boolean, boolean) breaks(rulesOf(vmId), vmId, target, where, true,
     * false)}: the first of the VM's rules, soft ones included, that running on {@code target} breaks, with
     * the label rules checked all at once. The balancer's exchange asks it of every candidate it checks.
     *
     * @param vmId   the VM.
     * @param target the host it would run on.
     * @param where  where the other VMs are.
     * @return the rule's index, or -1 if none is broken.
     */
    public int refusal(final long vmId, final int target, final Locator where)
    {
        return refusal(rulesFor(vmId), vmId, target, where);
    }

    /**
     * @param vmId a VM.
     * @return its compiled rules ({@link #NO_VM_RULES} if none), for {@link #refusal(VmRules, long, int, Locator)}.
     */
    VmRules rulesFor(final long vmId)
    {
        final VmRules found = byVm.get(vmId);
        return found == null ? NO_VM_RULES : found;
    }

    /** {@link #refusal(long, int, Locator)} with the VM's rules at hand ({@link #rulesFor}). */
    int refusal(final VmRules own, final long vmId, final int target, final Locator where)
    {
        if (breaksLabel(own, target))
        {
            return breaks(own.ordered, vmId, target, where, true, false); // a label rule is: the first broken of all
        }
        for (final long other : own.partners)
        {
            if (where.hostOf(other) == target)
            {
                return breaks(own.pairs, vmId, target, where, true, false); // no label rule is: the first VM-VM one
            }
        }
        for (final int r : own.rest)
        {
            if (breaks(r, vmId, target, where, false))
            {
                return r; // no label rule, no small anti-affinity one: the first of the rest
            }
        }
        return -1;
    }

    /**
     * @param host a host.
     * @return true if it breaks no VM's host-label rule (it carries every label an on-label rule names and
     *         none an off-label rule names); false if it may break one.
     */
    public boolean labelsHold(final int host)
    {
        final long carried = mask(host);
        return (carried & needed) == needed && (carried & shunned) == 0;
    }

    /** Whether one of a VM's host-label rules is broken on {@code target} ({@link #rulesFor}). */
    boolean breaksLabel(final VmRules own, final int target)
    {
        final long carried = mask(target);
        return (carried & own.needs) != own.needs || (carried & own.shuns) != 0;
    }

    private boolean breaks(final int r, final long vmId, final int target, final Locator where, final boolean localOnly)
    {
        switch (kinds[r])
        {
            case ANTI_AFFINITY:
                for (final long other : members[r])
                {
                    if (other != vmId && where.hostOf(other) == target)
                    {
                        return true;
                    }
                }
                return false;
            case AFFINITY:
                if (localOnly)
                {
                    return false;
                }
                boolean placed = false;
                for (final long other : members[r])
                {
                    if (other != vmId)
                    {
                        final int host = where.hostOf(other);
                        if (host == target)
                        {
                            return false;
                        }
                        placed |= host >= 0;
                    }
                }
                return placed;
            case ON_LABEL:
                return (mask(target) & labelBit[r]) == 0;
            case OFF_LABEL:
                return (mask(target) & labelBit[r]) != 0;
            default:
                throw new IllegalStateException(rules[r].kind().name());
        }
    }

    private long mask(final int host)
    {
        return host >= 0 && host < hostMask.length ? hostMask[host] : 0;
    }

    /**
     * @param label a label some rule uses.
     * @param host  a host.
     * @return whether the host carries it (false for a label no rule uses).
     */
    public boolean carries(final int host, final String label)
    {
        for (int r = 0; r < rules.length; r++)
        {
            if (label.equals(rules[r].label()))
            {
                return (mask(host) & labelBit[r]) != 0;
            }
        }
        return false;
    }

    /**
     * Whether a rule holds for the VMs where they are (VMs that are nowhere are left out).
     *
     * @param index the rule.
     * @param where where the VMs are.
     * @return whether it holds.
     */
    public boolean holds(final int index, final Locator where)
    {
        final long[] vms = members[index];
        switch (rules[index].kind())
        {
            case ANTI_AFFINITY:
                for (int i = 0; i < vms.length; i++)
                {
                    final int host = where.hostOf(vms[i]);
                    if (host >= 0)
                    {
                        for (int j = i + 1; j < vms.length; j++)
                        {
                            if (where.hostOf(vms[j]) == host)
                            {
                                return false;
                            }
                        }
                    }
                }
                return true;
            case AFFINITY:
                int together = -1;
                for (final long vm : vms)
                {
                    final int host = where.hostOf(vm);
                    if (host >= 0)
                    {
                        if (together >= 0 && host != together)
                        {
                            return false;
                        }
                        together = host;
                    }
                }
                return true;
            default:
                for (final long vm : vms)
                {
                    final int host = where.hostOf(vm);
                    if (host >= 0 && breaks(index, vm, host, where, false))
                    {
                        return false;
                    }
                }
                return true;
        }
    }

    /**
     * @param where where the VMs are.
     * @param hard  count the hard rules (true) or the soft ones.
     * @return how many of those rules do not {@linkplain #holds hold} now.
     */
    public int brokenCount(final Locator where, final boolean hard)
    {
        int broken = 0;
        for (int r = 0; r < rules.length; r++)
        {
            if (rules[r].hard() == hard && !holds(r, where))
            {
                broken++;
            }
        }
        return broken;
    }

    /**
     * Where a VM that breaks one of its rules where it runs should go to mend it, as far as the rule
     * alone says: for affinity, the host holding most of the others (ties: the lowest id); otherwise
     * any host ({@code -1}: the caller picks one that breaks nothing).
     *
     * @param index the rule.
     * @param vmId  the VM.
     * @param where where the VMs are.
     * @return the host, or -1 for any.
     */
    public int mendTowards(final int index, final long vmId, final Locator where)
    {
        if (rules[index].kind() != Rule.Kind.AFFINITY)
        {
            return -1;
        }
        final long[] vms = members[index];
        int best = -1;
        int bestCount = 0;
        for (int i = 0; i < vms.length; i++)
        {
            final int host = where.hostOf(vms[i]);
            if (host < 0)
            {
                continue;
            }
            int count = 0;
            for (final long vm : vms)
            {
                count += where.hostOf(vm) == host ? 1 : 0;
            }
            if (count > bestCount || count == bestCount && host < best)
            {
                best = host;
                bestCount = count;
            }
        }
        return best;
    }

    /**
     * Whether a VM, where it runs now, is the one of its anti-affinity group on that host that should
     * move to mend the rule: every one but the lowest id on a shared host, so two hosts never both move
     * the same pair's VMs. For other kinds, whether it breaks the rule where it is.
     *
     * @param index the rule.
     * @param vmId  the VM.
     * @param host  its host.
     * @param where where the VMs are.
     * @return whether it should move.
     */
    public boolean shouldMove(final int index, final long vmId, final int host, final Locator where)
    {
        if (rules[index].kind() == Rule.Kind.ANTI_AFFINITY)
        {
            for (final long other : members[index])
            {
                if (other < vmId && where.hostOf(other) == host)
                {
                    return true;
                }
            }
            return false;
        }
        if (rules[index].kind() == Rule.Kind.AFFINITY)
        {
            final int towards = mendTowards(index, vmId, where);
            return towards >= 0 && towards != host;
        }
        return breaks(index, vmId, host, where, false);
    }

    @Override
    public String toString()
    {
        return "Constraints" + Arrays.toString(rules);
    }
}
