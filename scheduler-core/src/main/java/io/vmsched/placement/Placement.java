package io.vmsched.placement;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongPredicate;

/**
 * A cluster's services and placement rules: defined, changed and deleted here, each change checked
 * whole before anything happens (one line naming the problem, nothing half-applied), written to the
 * {@link Sink} as one text statement, then applied and compiled into the {@link Constraints} every
 * placement reads. Recovery feeds the statements back through {@link #replay(String)}.
 * <p>
 * Statements ({@link RulesText} forms, plus): {@code service NAME size=N min=M},
 * {@code delete-service NAME}, {@code join SERVICE vms=...}, {@code leave vms=...}, a rule's text form,
 * {@code delete-rule NAME}.
 * <p>
 * <b>Note:</b> Threadsafe: changes are serialised; {@link #constraints()} is a volatile read of an
 * immutable snapshot, for any thread.
 */
public final class Placement
{
    /** Where each change is recorded before it is applied (a journal). */
    @FunctionalInterface
    public interface Sink
    {
        /**
         * @param statement the change in text form.
         * @throws RuntimeException if it could not be recorded: the change is then not applied.
         */
        void record(String statement);
    }

    /** VMs per {@code join} statement in {@link #statements()}. */
    static final int JOIN_CHUNK = 256;

    private final Map<String, Service> services = new LinkedHashMap<>();
    private final Map<String, Set<Long>> members = new HashMap<>();
    private final Map<Long, String> serviceOf = new HashMap<>();
    private final Map<String, Rule> rules = new LinkedHashMap<>();
    private final List<Set<String>> hostLabels = new ArrayList<>();
    private LongPredicate known = vm -> true;
    private Sink sink = statement -> {};
    private volatile Constraints compiled = Constraints.NONE;

    /**
     * @param known which VMs are in the cluster (a rule or a service may name only those).
     * @param sink  where changes are recorded before they apply.
     * @return this.
     */
    public synchronized Placement wire(final LongPredicate known, final Sink sink)
    {
        this.known = known;
        this.sink = sink;
        return this;
    }

    /** @return the rules in force, compiled (any thread). */
    public Constraints constraints()
    {
        return compiled;
    }

    /**
     * Set a host's labels (from its config; not journaled).
     *
     * @param host   the host.
     * @param labels its labels.
     */
    public synchronized void hostLabels(final int host, final Set<String> labels)
    {
        for (final String label : labels)
        {
            Names.check("label", label);
        }
        while (hostLabels.size() <= host)
        {
            hostLabels.add(Set.of());
        }
        hostLabels.set(host, Set.copyOf(labels));
        recompile();
    }

    /** @return hosts with labels set (host ids 0 .. this - 1). */
    public synchronized int hosts()
    {
        return hostLabels.size();
    }

    /**
     * @param host a host.
     * @return its labels.
     */
    public synchronized Set<String> labelsOf(final int host)
    {
        return host < hostLabels.size() ? hostLabels.get(host) : Set.of();
    }

    /**
     * Define a service, or change an existing one's size and minimum.
     *
     * @param service the definition.
     * @throws IllegalArgumentException if a hard rule over it could then never hold.
     */
    public synchronized void defineService(final Service service)
    {
        for (final Rule rule : rules.values())
        {
            if (service.name().equals(rule.service()))
            {
                feasible(rule, Math.max(service.desiredSize(), size(service.name())));
            }
        }
        record(service.toString());
        services.put(service.name(), service);
        members.computeIfAbsent(service.name(), k -> new LinkedHashSet<>());
        recompile();
    }

    /**
     * Delete a service (its VMs stay in the cluster, in no service).
     *
     * @param name the service.
     * @throws IllegalArgumentException if there is none so named, or a rule covers it.
     */
    public synchronized void deleteService(final String name)
    {
        service(name);
        for (final Rule rule : rules.values())
        {
            if (name.equals(rule.service()))
            {
                throw new IllegalArgumentException("service " + name + " is covered by rule " + rule.name() +
                    ": delete the rule first");
            }
        }
        record("delete-service " + name);
        services.remove(name);
        for (final Long vm : members.remove(name))
        {
            serviceOf.remove(vm);
        }
        recompile();
    }

    /**
     * Add VMs to a service.
     *
     * @param name the service.
     * @param vms  VMs in the cluster and in no other service (already in this one: no change).
     * @throws IllegalArgumentException naming the first VM that cannot join, or a hard rule that could then never hold.
     */
    public synchronized void join(final String name, final long... vms)
    {
        join(name, true, vms);
    }

    /**
     * Add VMs to a service: {@link #join(String, long...)}, or, with {@code !mustExist}, a VM about to be
     * admitted into it (the caller admits it next).
     *
     * @param name      the service.
     * @param mustExist whether each VM must be in the cluster already.
     * @param vms       the VMs.
     */
    public synchronized void join(final String name, final boolean mustExist, final long... vms)
    {
        checkJoin(name, vms, mustExist);
        record("join " + name + " vms=" + RulesText.vmList(vms));
        apply(name, vms);
    }

    /**
     * Check that VMs can join a service, without joining them.
     *
     * @param name      the service.
     * @param vms       the VMs.
     * @param mustExist whether each must be in the cluster already (false: one about to be admitted).
     * @throws IllegalArgumentException naming what is wrong.
     */
    public synchronized void checkJoin(final String name, final long[] vms, final boolean mustExist)
    {
        service(name);
        int added = 0;
        for (final long vm : vms)
        {
            final String other = serviceOf.get(vm);
            if (other != null && !other.equals(name))
            {
                throw new IllegalArgumentException("vm " + vm + " is already in service " + other +
                    " (a VM is in at most one service)");
            }
            if (mustExist && !known.test(vm))
            {
                throw new IllegalArgumentException("vm " + vm + " is not in the cluster");
            }
            added += other == null ? 1 : 0;
        }
        final int size = Math.max(services.get(name).desiredSize(), size(name) + added);
        for (final Rule rule : rules.values())
        {
            if (name.equals(rule.service()))
            {
                feasible(rule, size);
            }
        }
    }

    /**
     * Take VMs out of whatever service they are in.
     *
     * @param vms the VMs.
     */
    public synchronized void leave(final long... vms)
    {
        record("leave vms=" + RulesText.vmList(vms));
        for (final long vm : vms)
        {
            final String name = serviceOf.remove(vm);
            if (name != null)
            {
                members.get(name).remove(vm);
            }
        }
        recompile();
    }

    /**
     * Add a rule; it is in force for every placement from the moment this returns.
     *
     * @param rule the rule.
     * @throws IllegalArgumentException if its name is taken, it names an unknown VM, service or label,
     *                                  or it can never hold (with the reason).
     */
    public synchronized void addRule(final Rule rule)
    {
        if (rules.containsKey(rule.name()))
        {
            throw new IllegalArgumentException("rule " + rule.name() + " already exists");
        }
        if (rule.service() != null)
        {
            service(rule.service());
        }
        else
        {
            for (final long vm : rule.vmsShared())
            {
                if (!known.test(vm))
                {
                    throw new IllegalArgumentException("rule " + rule.name() + " names vm " + vm +
                        ", which is not in the cluster");
                }
            }
        }
        if (rule.label() != null && hostsCarrying(rule.label()) == 0)
        {
            throw new IllegalArgumentException("rule " + rule.name() + " names label " + rule.label() +
                ", which no host carries");
        }
        feasible(rule, rule.service() != null ?
            Math.max(services.get(rule.service()).desiredSize(), size(rule.service())) : rule.vmsShared().length);
        contradiction(rule);
        record(rule.toString());
        rules.put(rule.name(), rule);
        recompile();
    }

    /**
     * @param name a rule.
     * @throws IllegalArgumentException if there is none so named.
     */
    public synchronized void removeRule(final String name)
    {
        if (!rules.containsKey(name))
        {
            throw new IllegalArgumentException("no rule is named " + name);
        }
        record("delete-rule " + name);
        rules.remove(name);
        recompile();
    }

    /**
     * Apply a recorded statement again (recovery): not recorded, and not checked against the cluster's
     * VMs or hosts (they were when it was recorded).
     *
     * @param statement the statement.
     * @throws IllegalArgumentException if it cannot be read.
     */
    public synchronized void replay(final String statement)
    {
        final String[] words = statement.strip().split("\\s+", 2);
        switch (words[0])
        {
            case "service" ->
            {
                final Service service = (Service)RulesText.serviceAndVms(statement)[0];
                services.put(service.name(), service);
                members.computeIfAbsent(service.name(), k -> new LinkedHashSet<>());
            }
            case "delete-service" ->
            {
                services.remove(words[1]);
                final Set<Long> gone = members.remove(words[1]);
                if (gone != null)
                {
                    gone.forEach(serviceOf::remove);
                }
            }
            case "join" ->
            {
                final String[] parts = words[1].split("\\s+");
                if (!services.containsKey(parts[0]) || parts.length != 2 || !parts[1].startsWith("vms="))
                {
                    throw new IllegalArgumentException("cannot read '" + statement + "'");
                }
                apply(parts[0], RulesText.parseVms(parts[1].substring(4)));
                return;
            }
            case "leave" ->
            {
                for (final long vm : RulesText.parseVms(words[1].substring(4)))
                {
                    final String name = serviceOf.remove(vm);
                    if (name != null)
                    {
                        members.get(name).remove(vm);
                    }
                }
            }
            case "delete-rule" -> rules.remove(words[1]);
            default ->
            {
                final Rule rule = RulesText.parseRule(statement);
                rules.put(rule.name(), rule);
            }
        }
        recompile();
    }

    /**
     * @param service a service.
     * @param vms     VMs.
     * @return the statement adding them to it.
     */
    public static String joinText(final String service, final long... vms)
    {
        return "join " + service + " vms=" + RulesText.vmList(vms);
    }

    /**
     * @param vms VMs.
     * @return the statement taking them out of their services.
     */
    public static String leaveText(final long... vms)
    {
        return "leave vms=" + RulesText.vmList(vms);
    }

    /**
     * A host's labels from their text form: names separated by commas or spaces ({@code rack-a,ssd}).
     *
     * @param text the labels (empty: none).
     * @return the labels.
     * @throws IllegalArgumentException naming a label that is not a valid name.
     */
    public static Set<String> parseLabels(final String text)
    {
        final Set<String> labels = new LinkedHashSet<>();
        for (final String label : text.strip().split("[,\\s]+"))
        {
            if (!label.isEmpty())
            {
                Names.check("label", label);
                labels.add(label);
            }
        }
        return labels;
    }

    /**
     * Apply statements in their text form ({@link #statements()}'s, and {@code delete-service NAME},
     * {@code delete-rule NAME}, {@code leave vms=...}) as one change: each is checked as its method checks
     * it ({@code join} accepts VMs not yet admitted), on a copy first, so a refused one applies none.
     * The registry of a cluster across machines applies its operators' changes so.
     *
     * @param statements the statements, in order.
     * @throws IllegalArgumentException naming the first statement refused and why.
     */
    public synchronized void submit(final List<String> statements)
    {
        final Placement trial = new Placement();
        for (int h = 0; h < hostLabels.size(); h++)
        {
            trial.hostLabels(h, hostLabels.get(h));
        }
        for (final String statement : statements())
        {
            trial.replay(statement);
        }
        trial.wire(known, s -> { });
        for (final String statement : statements)
        {
            try
            {
                trial.submitOne(statement);
            }
            catch (final IllegalArgumentException ex)
            {
                throw new IllegalArgumentException("'" + statement + "': " + ex.getMessage());
            }
        }
        for (final String statement : statements)
        {
            submitOne(statement);
        }
    }

    private void submitOne(final String statement)
    {
        final String[] words = statement.strip().split("\\s+", 2);
        final String rest = words.length > 1 ? words[1] : "";
        switch (words[0])
        {
            case "service" ->
            {
                final Object[] parsed = RulesText.serviceAndVms(statement);
                final Service service = (Service)parsed[0];
                defineService(service);
                if (parsed[1] != null)
                {
                    join(service.name(), false, (long[])parsed[1]);
                }
            }
            case "delete-service" -> deleteService(rest.strip());
            case "join" ->
            {
                final String[] parts = rest.split("\\s+");
                if (parts.length != 2 || !parts[1].startsWith("vms="))
                {
                    throw new IllegalArgumentException("expected join SERVICE vms=...");
                }
                join(parts[0], false, RulesText.parseVms(parts[1].substring(4)));
            }
            case "leave" ->
            {
                if (!rest.startsWith("vms="))
                {
                    throw new IllegalArgumentException("expected leave vms=...");
                }
                leave(RulesText.parseVms(rest.substring(4)));
            }
            case "delete-rule" -> removeRule(rest.strip());
            default -> addRule(RulesText.parseRule(statement));
        }
    }

    /**
     * Replace everything but the hosts' labels with what {@code statements} recreate (a copy catching up
     * with its authority: not recorded, not checked).
     *
     * @param statements a whole placement's statements ({@link #statements()}).
     */
    public synchronized void replaceWith(final List<String> statements)
    {
        services.clear();
        members.clear();
        serviceOf.clear();
        rules.clear();
        for (final String statement : statements)
        {
            replay(statement);
        }
        recompile();
    }

    /**
     * The statements of a constraints file, in the order {@link #submit} applies them.
     *
     * @param statements a file's statements ({@link RulesText#read}).
     * @return their text forms.
     */
    public static List<String> textOf(final RulesText.Statements statements)
    {
        final List<String> out = new ArrayList<>();
        for (final Service service : statements.services)
        {
            out.add(service.toString());
            final long[] vms = statements.members.get(service.name());
            if (vms != null && vms.length > 0)
            {
                out.add("join " + service.name() + " vms=" + RulesText.vmList(vms));
            }
        }
        for (final Rule rule : statements.rules)
        {
            out.add(rule.toString());
        }
        return out;
    }

    /** @return the services, in the order they were defined. */
    public synchronized List<Service> services()
    {
        return List.copyOf(services.values());
    }

    /**
     * @param name a service.
     * @return its VMs, in the order they joined.
     * @throws IllegalArgumentException if there is none so named.
     */
    public synchronized long[] members(final String name)
    {
        service(name);
        return members.get(name).stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * @param vmId a VM.
     * @return the service it is in, or null.
     */
    public synchronized String serviceOf(final long vmId)
    {
        return serviceOf.get(vmId);
    }

    /**
     * @param name a service.
     * @return its definition, or null.
     */
    public synchronized Service definition(final String name)
    {
        return services.get(name);
    }

    /** @return the rules, in the order they were added. */
    public synchronized List<Rule> rules()
    {
        return List.copyOf(rules.values());
    }

    /** @return the statements that recreate this placement from nothing (a snapshot). */
    public synchronized List<String> statements()
    {
        final List<String> out = new ArrayList<>();
        for (final Service s : services.values())
        {
            out.add(s.toString());
            final Set<Long> vms = members.get(s.name());
            final long[] all = vms.stream().mapToLong(Long::longValue).toArray();
            for (int from = 0; from < all.length; from += JOIN_CHUNK)
            {
                // in chunks, so that no statement outgrows one registry message
                out.add("join " + s.name() + " vms=" + RulesText.vmList(
                    java.util.Arrays.copyOfRange(all, from, Math.min(all.length, from + JOIN_CHUNK))));
            }
        }
        for (final Rule r : rules.values())
        {
            out.add(r.toString());
        }
        return out;
    }

    private void apply(final String name, final long[] vms)
    {
        final Set<Long> set = members.get(name);
        for (final long vm : vms)
        {
            if (serviceOf.putIfAbsent(vm, name) == null)
            {
                set.add(vm);
            }
        }
        recompile();
    }

    private Service service(final String name)
    {
        final Service service = services.get(name);
        if (service == null)
        {
            throw new IllegalArgumentException("no service is named " + name);
        }
        return service;
    }

    private int size(final String name)
    {
        final Set<Long> set = members.get(name);
        return set == null ? 0 : set.size();
    }

    private int hostsCarrying(final String label)
    {
        int n = 0;
        for (final Set<String> labels : hostLabels)
        {
            n += labels.contains(label) ? 1 : 0;
        }
        return n;
    }

    /** A hard rule over {@code vms} VMs that can never hold is refused, with the reason. */
    private void feasible(final Rule rule, final int vms)
    {
        if (!rule.hard())
        {
            return;
        }
        final int hosts = hostLabels.size();
        switch (rule.kind())
        {
            case ANTI_AFFINITY ->
            {
                if (vms > hosts)
                {
                    throw new IllegalArgumentException("hard anti-affinity rule " + rule.name() + " over " + vms +
                        " VMs can never hold on " + hosts + " hosts");
                }
                for (final Rule other : rules.values())
                {
                    if (other.hard() && other.kind() == Rule.Kind.ON_LABEL && sameVms(rule, other) &&
                        vms > hostsCarrying(other.label()))
                    {
                        throw new IllegalArgumentException("hard anti-affinity rule " + rule.name() + " over " + vms +
                            " VMs can never hold on the " + hostsCarrying(other.label()) + " hosts labelled " +
                            other.label() + " that hard rule " + other.name() + " allows");
                    }
                }
            }
            case ON_LABEL ->
            {
                for (final Rule other : rules.values())
                {
                    if (other.hard() && other.kind() == Rule.Kind.ANTI_AFFINITY && sameVms(rule, other) &&
                        vms > hostsCarrying(rule.label()))
                    {
                        throw new IllegalArgumentException("hard rule " + rule.name() + " puts " + vms + " VMs on the " +
                            hostsCarrying(rule.label()) + " hosts labelled " + rule.label() + ", where hard anti-affinity " +
                            "rule " + other.name() + " can never hold");
                    }
                }
            }
            case OFF_LABEL ->
            {
                if (hostsCarrying(rule.label()) == hosts)
                {
                    throw new IllegalArgumentException("hard rule " + rule.name() + " keeps VMs off label " +
                        rule.label() + ", which every host carries");
                }
            }
            default ->
            {
            }
        }
    }

    /** Hard affinity and hard anti-affinity over two or more of the same VMs contradict each other. */
    private void contradiction(final Rule rule)
    {
        if (!rule.hard() || rule.label() != null)
        {
            return;
        }
        for (final Rule other : rules.values())
        {
            if (other.hard() && other.label() == null && other.kind() != rule.kind() && overlap(rule, other) >= 2)
            {
                throw new IllegalArgumentException("hard " + rule.kind().word() + " rule " + rule.name() +
                    " contradicts hard " + other.kind().word() + " rule " + other.name() + " over the same VMs");
            }
        }
    }

    private boolean sameVms(final Rule a, final Rule b)
    {
        return a.service() != null ? a.service().equals(b.service()) : java.util.Arrays.equals(a.vmsShared(), b.vmsShared());
    }

    private int overlap(final Rule a, final Rule b)
    {
        if (a.service() != null && a.service().equals(b.service()))
        {
            return Math.max(2, Math.max(services.get(a.service()).desiredSize(), size(a.service())));
        }
        final Set<Long> left = vmsOf(a);
        int n = 0;
        for (final Long vm : vmsOf(b))
        {
            n += left.contains(vm) ? 1 : 0;
        }
        return n;
    }

    private Set<Long> vmsOf(final Rule rule)
    {
        final Set<Long> out = new TreeSet<>();
        if (rule.service() != null)
        {
            out.addAll(members.getOrDefault(rule.service(), Collections.emptySet()));
        }
        else
        {
            for (final long vm : rule.vmsShared())
            {
                out.add(vm);
            }
        }
        return out;
    }

    private void record(final String statement)
    {
        sink.record(statement);
    }

    private void recompile()
    {
        final Map<String, long[]> vms = new HashMap<>();
        members.forEach((name, set) -> vms.put(name, set.stream().mapToLong(Long::longValue).toArray()));
        compiled = Constraints.compile(new ArrayList<>(rules.values()), vms, hostLabels);
    }
}
