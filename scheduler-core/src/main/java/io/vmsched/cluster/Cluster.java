package io.vmsched.cluster;

import io.vmsched.balloon.BalloonResult;
import io.vmsched.placement.Placement;

import io.vmsched.dispatch.Guest;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An embedded cluster: N {@link HostRuntime}s in this JVM joined by an {@link InJvmTransport} (or each
 * host's own transport, {@link ClusterConfig#transports}), each
 * journaling to its own directory under the data directory. Starting on a data directory that
 * already holds journals recovers from them: every host rebuilds its schedule, and a migration a
 * crash cut short is resolved by its commit point.
 * <p>
 * Threading: {@link #start}, {@link #close} and the requests ({@link #admit}, {@link #remove},
 * {@link #migrate}, {@link #programLoad}, {@link #reportUsage}) may be called from any thread;
 * requests are queued to the host agents and take effect asynchronously (watch {@link #placement()}
 * or a {@link ClusterListener}). Getters are racy snapshots.
 * <p>
 * <b>What an accepted request means.</b> A request call that returns normally has been accepted: it
 * then either takes effect (the admission, removal or migration is journaled and its listener
 * callback runs; a load is applied) or is reported failed, exactly once, to
 * {@link ClusterListener#onRequestFailed}; none is dropped, including requests a host passes on to
 * another (the VM moved) or holds until a migration's outcome. When {@link #close()} returns, every
 * accepted request has done one or the other. After a crash (SIGKILL), every admission and removal
 * whose listener callback had run survives, and nothing refused appears. A call that throws was not
 * accepted. Back-pressure: a call waits up to {@link HostConfig#requestTimeoutNs} for room in a full
 * inbox, then throws {@link IllegalStateException} (a call from a listener callback does not wait).
 * <p>
 * After {@link #close()} begins, every method throws {@link IllegalStateException} except
 * {@code close()} itself and the final figures: {@link #hostCount()}, {@link #recoveredVms()},
 * {@link #migrationsCommitted()}, {@link #migrationsAborted()}, {@link #journalDirs()}.
 */
public final class Cluster implements AutoCloseable
{

    private final ClusterConfig config;
    private final ClusterView view;
    private final Transports transports;
    private final HostRuntime[] hosts;
    private final int recovered;
    private final DataDirectory dataDirectory;
    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
    private final RequestGate gate = new RequestGate();
    private final RequestSender requests;
    private final ClusterPlacement placement;
    private Boolean balancingOn; // guarded by this: what balancing(on) last set, for hosts added later (null: their config's)

    private Cluster(final ClusterConfig config)
    {
        config.validate();
        this.config = config;
        this.view = new ClusterView(config.hosts, capacities(config), config.listener, config.localHost, config.owners);
        this.transports = new Transports(config);
        this.hosts = new HostRuntime[config.capacity()]; // [0, view.hosts) run; the rest is room for addHost
        this.dataDirectory = DataDirectory.acquire(config.dataDir); // one owner: a second start is refused here
        ClusterPlacement placement = null;
        try
        {
            placement = new ClusterPlacement(config, view, hosts); // the rules hold from the first placement on
            this.recovered = ClusterRecovery.recover(config, view, transports, dataDirectory, hosts);
            placement.open();
            this.requests = new RequestSender(config, view, hosts);
        }
        catch (final RuntimeException ex)
        {
            if (placement != null)
            {
                placement.close();
            }
            transports.close();
            dataDirectory.close();
            throw ex;
        }
        this.placement = placement;
    }

    private static io.vmsched.load.HostCapacity[] capacities(final ClusterConfig config)
    {
        final io.vmsched.load.HostCapacity[] capacities = new io.vmsched.load.HostCapacity[config.capacity()];
        for (int h = 0; h < capacities.length; h++)
        {
            capacities[h] = config.hostConfig(h).capacity();
        }
        return capacities;
    }

    /**
     * Build the hosts, recover whatever their journals hold, and start them.
     *
     * @param config the cluster's settings.
     * @return the running cluster.
     * @throws IllegalArgumentException if a setting is bad, or the data directory cannot be recovered
     *                                  (a host's journal directory missing, fewer hosts than it has).
     * @throws IllegalStateException    if another cluster or process holds the data directory (its pid is named).
     * @throws io.vmsched.journal.JournalCorruptException if a journal file is damaged, missing or cut short
     *                                  (a record torn at the very tail by a crash is not damage: it is recovered).
     *                                  A refused start changes nothing on disk.
     */
    public static Cluster start(final ClusterConfig config)
    {
        final Cluster cluster = new Cluster(config);
        try
        {
            for (int h = 0; h < config.hosts; h++)
            {
                if (config.runsHere(h) && cluster.view.placement.removed(h))
                {
                    // removed when its drain had emptied it: recovered (its journal holds no VM), not run
                    cluster.hosts[h].close();
                    cluster.hosts[h] = null;
                }
                else if (config.runsHere(h))
                {
                    cluster.hosts[h].start();
                }
            }
            cluster.placement.start();
        }
        catch (final RuntimeException ex)
        {
            cluster.close();
            throw ex;
        }
        return cluster;
    }

    /**
     * Add an empty host (scale-out, or the new machine of a replacement): it takes the next id, gets
     * its own journal directory and its {@link ClusterConfig#hostConfig} settings, starts, and only then
     * do its peers see it; the exchanges fill it (light hosts pull from heavy ones they heard of). The
     * data directory records it: a restart must name every host ({@link ClusterConfig#hosts} = the new
     * count), or it is refused, since the new host's VMs would be lost.
     * <p>
     * Threadsafe; returns once the host runs.
     *
     * @return the new host's id.
     * @throws IllegalStateException if the cluster already has {@link ClusterConfig#maxHosts} hosts, or is closed.
     */
    public synchronized int addHost()
    {
        gate.checkOpen();
        if (config.localHost >= 0)
        {
            throw new IllegalStateException("a node runs one host: a cluster across machines grows by a node joining");
        }
        final int id = view.hosts;
        if (id >= hosts.length)
        {
            throw new IllegalStateException("the cluster has " + id + " hosts, the most its ClusterConfig.maxHosts (" +
                hosts.length + ") allows: start it with a larger maxHosts to add more");
        }
        // the start refused any journal of a host beyond the cluster's, so this directory is new
        final io.vmsched.journal.Journal journal = io.vmsched.journal.ChronicleJournal.open(config.journalDir(id), id);
        final HostRuntime host;
        try
        {
            host = new HostRuntime(id, config.hostConfig(id), view, transports.of(id), journal, config.guests, config.faults);
            host.recover(JournalState.empty(), (target, migrationId) -> false); // nothing to recover: set up as a start does
        }
        catch (final RuntimeException ex)
        {
            journal.close();
            throw ex;
        }
        if (balancingOn != null)
        {
            host.balancing(balancingOn);
        }
        transports.attach(id, host.inbox());
        placement.hostAdded(id, config.hostConfig(id));
        hosts[id] = host;
        host.start();
        dataDirectory.recordHosts(id + 1);
        view.hosts = id + 1; // published last: no peer contacts it, and no request names it, before it runs
        return id;
    }

    /**
     * A node only ({@link ClusterConfig#localHost}): a peer is known (from the registry's directory), or
     * its capacity changed; the cluster's hosts grow to include it. Its transport must know its endpoint.
     * <p>
     * Threadsafe.
     *
     * @param host     the peer's host id.
     * @param capacity its capacity (its peers compute a VM's load on it from it).
     * @throws IllegalArgumentException if the id is out of the cluster's room or is this node's own host.
     * @throws IllegalStateException    if this is not a node.
     */
    public synchronized void peer(final int host, final io.vmsched.load.HostCapacity capacity)
    {
        peer(host, capacity, 0.0);
    }

    /**
     * A node only: a peer is known, up (with the load it last reported, a first guess until its gossip
     * arrives) or down (NaN: no exchange contacts it).
     * <p>
     * Threadsafe.
     *
     * @param host     the peer's host id.
     * @param capacity its capacity.
     * @param load     its last reported load, or NaN if it is down.
     */
    public synchronized void peer(final int host, final io.vmsched.load.HostCapacity capacity, final double load)
    {
        if (config.localHost < 0)
        {
            throw new IllegalStateException("peers are for a node (ClusterConfig.localHost): an embedded cluster runs all its hosts");
        }
        if (host < 0 || host >= view.capacity || host == config.localHost)
        {
            throw new IllegalArgumentException("peer host " + host + " is not in [0, " + view.capacity + ") or is this node's own");
        }
        view.capacities[host] = capacity;
        view.publishLoad(host, load);
        if (host >= view.hosts)
        {
            view.hosts = host + 1; // published after the capacity: a reader that sees the host sees its capacity
        }
    }

    /** @return VMs the hosts owned after recovering their journals at start (0 on a fresh directory). */
    public int recoveredVms()
    {
        return recovered;
    }

    /** @return number of hosts (grown by {@link #addHost}). */
    public int hostCount()
    {
        return view.hosts;
    }

    /**
     * @param id a host id.
     * @return that host.
     */
    public HostRuntime host(final int id)
    {
        gate.checkOpen();
        requests.checkHost(id);
        if (hosts[id] == null)
        {
            throw new IllegalArgumentException("host " + id + " is another node's: this node runs host " + config.localHost);
        }
        return hosts[id];
    }

    /**
     * Admit a VM on the least loaded host that has room in its schedule (counting admissions still
     * queued to it; between equal loads, the one with fewest VMs).
     *
     * @see #admit(int, long, int, Guest)
     * @return the host chosen.
     * @throws IllegalStateException if every host's schedule is full.
     */
    public int admit(final long vmId, final int weight, final Guest guest)
    {
        gate.checkOpen();
        if (!view.limitsNone())
        {
            synchronized (placement)
            {
                final int host = placement.choose(config, vmId, new int[0]);
                admit(host, vmId, weight, guest);
                return host;
            }
        }
        int best = -1;
        int bestCount = 0;
        for (int h = 0, n = view.hosts; h < n; h++)
        {
            if (hosts[h] == null || view.placement.constraints().closed(h))
            {
                continue; // another node's (admit there), or draining
            }
            final int count = hosts[h].vmCount() + view.admitsQueued.get(h);
            if (count >= config.hostConfig(h).scheduleCapacity)
            {
                continue;
            }
            if (best < 0 || load(h) < load(best) || load(h) == load(best) && count < bestCount)
            {
                best = h;
                bestCount = count;
            }
        }
        if (best < 0)
        {
            throw new IllegalStateException("vm " + vmId + " not admitted: every host's schedule is full");
        }
        admit(best, vmId, weight, guest);
        return best;
    }

    /**
     * Admit a VM into a service, on a host chosen by the service's rules: among the hosts with room
     * (schedule, {@link HostConfig#limits}), one where no hard rule over the service breaks, preferably
     * one where no soft one does either, then the least loaded. The VM joins the service (journaled)
     * before it is admitted. Admissions into services are serialised, so two of them never pick the
     * same host against an anti-affinity rule.
     *
     * @param service the service (defined by {@link #defineService}).
     * @param vmId    the VM's id, unique in the cluster.
     * @param weight  its share on the host's dispatcher.
     * @param guest   the workload.
     * @return the host chosen.
     * @throws IllegalArgumentException if there is no such service, the VM is in another, or a hard
     *                                  rule holds on no host with room (the rule named).
     * @throws IllegalStateException    if no host has room.
     */
    public int admit(final String service, final long vmId, final int weight, final Guest guest)
    {
        gate.checkOpen();
        if (view.owners.containsKey(vmId))
        {
            throw new IllegalArgumentException("vm " + vmId + " is already in the cluster");
        }
        synchronized (placement)
        {
            placement.know(service);
            view.placement.checkJoin(service, new long[]{vmId}, false);
            final io.vmsched.placement.Constraints rules = view.placement.constraints();
            final int host = placement.choose(config, vmId, rules.rulesOfService(service));
            if (!placement.change(Placement.joinText(service, vmId)))
            {
                view.placement.join(service, false, vmId); // journaled first: the rules hold it from its first moment
            }
            admit(host, vmId, weight, guest);
            return host;
        }
    }

    /**
     * Define a service, or change its size and minimum (journaled; recovered after a restart).
     *
     * @param name        its name (letters, digits, '.', '_', '-').
     * @param desiredSize VMs the operator wants running (vmsched reports fewer; it creates none).
     * @param minRunning  fewer running than this and the service has {@link io.vmsched.placement.ServiceHealth#FAILED}.
     * @throws IllegalArgumentException naming what is wrong (a bad name or count, a hard rule that could then never hold).
     */
    public void defineService(final String name, final int desiredSize, final int minRunning)
    {
        gate.checkOpen();
        final io.vmsched.placement.Service service = new io.vmsched.placement.Service(name, desiredSize, minRunning);
        if (!placement.change(service.toString()))
        {
            view.placement.defineService(service);
        }
    }

    /**
     * Delete a service; its VMs stay in the cluster.
     *
     * @param name the service.
     * @throws IllegalArgumentException if there is none so named, or a rule still covers it.
     */
    public void deleteService(final String name)
    {
        gate.checkOpen();
        if (!placement.change("delete-service " + name))
        {
            view.placement.deleteService(name);
        }
    }

    /**
     * Add VMs already in the cluster to a service (journaled).
     *
     * @param service the service.
     * @param vmIds   the VMs.
     * @throws IllegalArgumentException naming the first VM that is unknown or in another service, or a hard rule that could then never hold.
     */
    public void addToService(final String service, final long... vmIds)
    {
        gate.checkOpen();
        placement.know(service);
        if (!placement.change(Placement.joinText(service, vmIds)))
        {
            view.placement.join(service, vmIds);
        }
    }

    /**
     * Take VMs out of their services (journaled).
     *
     * @param vmIds the VMs.
     */
    public void removeFromService(final long... vmIds)
    {
        gate.checkOpen();
        if (!placement.change(Placement.leaveText(vmIds)))
        {
            view.placement.leave(vmIds);
        }
    }

    /**
     * Add a placement rule (journaled). It is in force for every placement from the moment this returns:
     * admission, {@link #migrate}, the balancer's exchange; the hosts repair what it breaks now, by
     * migrations that break no hard rule, when such a move exists (while balancing is on).
     *
     * @param rule the rule.
     * @return the VMs that break it now (empty if it holds).
     * @throws IllegalArgumentException if its name is taken, it names an unknown VM, service or label, or
     *                                  it can never hold (with the reason); nothing is then changed.
     */
    public List<Long> addRule(final io.vmsched.placement.Rule rule)
    {
        gate.checkOpen();
        if (!placement.change(rule.toString()))
        {
            view.placement.addRule(rule);
        }
        return placement.breaking(rule.name());
    }

    /**
     * @param name a rule.
     * @throws IllegalArgumentException if there is none so named.
     */
    public void removeRule(final String name)
    {
        gate.checkOpen();
        if (!placement.change("delete-rule " + name))
        {
            view.placement.removeRule(name);
        }
    }

    /**
     * Apply a constraints file's services and rules ({@link io.vmsched.placement.RulesText}): every statement
     * is checked before any is applied, so a mistake applies nothing.
     *
     * @param statements what the file holds.
     * @throws IllegalArgumentException naming the first statement that cannot be applied.
     */
    public void applyConstraints(final io.vmsched.placement.RulesText.Statements statements)
    {
        gate.checkOpen();
        synchronized (placement)
        {
            placement.apply(statements);
        }
    }

    /**
     * Across machines ({@link ClusterConfig#placementAuthority}): replace this node's copy of the services and
     * rules with the authority's, as read from it (the copy only spares the balancer moves the authority
     * would refuse; the authority checks every placement itself).
     *
     * @param statements the authority's placement ({@link io.vmsched.placement.Placement#statements()}).
     * @throws IllegalStateException if this cluster has no authority (its own journal is the placement's).
     */
    public void adoptPlacement(final List<String> statements)
    {
        gate.checkOpen();
        if (config.placementAuthority == null)
        {
            throw new IllegalStateException("this cluster's placement is its own journal's: there is no authority to follow");
        }
        placement.adopt(statements);
    }

    /**
     * Across machines ({@link ClusterConfig#placementAuthority}): a change of a service's status that the authority
     * judged (it sees every node's VMs), reported here as the embedded watch reports its own: a SERVICE_STATUS record
     * in this node's placement journal, a JFR event, then {@link ClusterListener#onServiceStatus}. Any thread.
     *
     * @param status the change.
     * @throws IllegalStateException if this cluster has no authority (its own watch judges its services).
     */
    public void serviceStatusJudged(final io.vmsched.placement.ServiceStatus status)
    {
        gate.checkOpen();
        if (config.placementAuthority == null)
        {
            throw new IllegalStateException("this cluster judges its own services: there is no authority to hear");
        }
        placement.told(status);
    }

    /**
     * Across machines: the VMs of other nodes whose place this node's rules need, those sharing an affinity or
     * anti-affinity rule with a VM this node owns. The node asks the registry where they run and tells
     * {@link #peerOwners}. Any thread; O(this node's VMs under such rules × their rules' sizes).
     *
     * @return their ids (empty when no such rule covers a VM of this node).
     */
    public java.util.Set<Long> rulePartnersElsewhere()
    {
        final io.vmsched.placement.Constraints rules = view.placement.constraints();
        final java.util.Set<Long> partners = new java.util.TreeSet<>();
        for (int r = 0, n = rules.ruleCount(); r < n; r++)
        {
            final io.vmsched.placement.Rule.Kind kind = rules.rule(r).kind();
            if (kind != io.vmsched.placement.Rule.Kind.AFFINITY && kind != io.vmsched.placement.Rule.Kind.ANTI_AFFINITY)
            {
                continue;
            }
            final long[] members = rules.membersOf(r);
            boolean mine = false;
            for (final long vm : members)
            {
                mine |= view.owners.containsKey(vm);
            }
            if (mine)
            {
                for (final long vm : members)
                {
                    if (!view.owners.containsKey(vm))
                    {
                        partners.add(vm);
                    }
                }
            }
        }
        return partners;
    }

    /**
     * Across machines: where the VMs {@link #rulePartnersElsewhere} named run, as the registry last said
     * (host = owner node id - 1), replacing what it said before. The balancer, a drain and a repair judge a
     * target's rules with it (without it a node sees no VM of another node, so it would send a VM where a partner
     * runs, to be refused at the registry again and again); the registry still checks every move at its commit.
     * Any thread.
     *
     * @param owners VM id to host; not kept (copied).
     */
    public void peerOwners(final Map<Long, Integer> owners)
    {
        view.elsewhere = Map.copyOf(owners);
    }

    /**
     * Across machines: a host's labels as its node registered them, so this node's copy of the rules judges
     * moves to it as the authority will.
     *
     * @param host   a host.
     * @param labels its labels.
     */
    public void peerLabels(final int host, final java.util.Set<String> labels)
    {
        view.placement.hostLabels(host, labels);
    }

    /** @return the services and rules in force (a copy). */
    public List<String> constraints()
    {
        gate.checkOpen();
        return view.placement.statements();
    }

    /**
     * Each service with its status, its VMs and where they run, and each rule with whether it holds
     * (computed now; changes of status found are reported as the watch reports them).
     *
     * @return the report.
     */
    public io.vmsched.placement.StatusReport status()
    {
        gate.checkOpen();
        return placement.status().withDrains(drains());
    }

    /**
     * Drain a host (REL claim 8): from now on it takes no new VM (admission, the balancer, repair and
     * {@link #migrate} skip it, and it refuses arrivals), and its VMs leave by ordinary handoffs, at most
     * {@link HostConfig#drainParallel} in flight, each to the host the placement chooses (the least loaded
     * that keeps every hard rule and whose limits take it). Journaled with the placement: a restart goes on
     * draining. A VM that can go nowhere keeps the drain incomplete and says why ({@link #drains()}); the
     * drain goes on when something changes. Draining works whether balancing is on or off.
     *
     * @param host the host.
     * @throws IllegalArgumentException if there is no such host, or it was removed.
     */
    public void drain(final int host)
    {
        gate.checkOpen();
        if (!placement.change("drain " + host))
        {
            view.placement.drain(host);
        }
    }

    /**
     * Stop draining a host: it takes VMs again (those that left stay where they went).
     *
     * @param host the host.
     * @throws IllegalArgumentException if there is no such host, or it was removed.
     */
    public void undrain(final int host)
    {
        gate.checkOpen();
        if (!placement.change("undrain " + host))
        {
            view.placement.undrain(host);
        }
    }

    /**
     * Remove a drained host from the cluster (the old machine of a replacement): its runtime stops, and it
     * is closed for good (journaled: a restart does not start it). Only a drained host may go: it has
     * refused every arrival since its drain began, so once it holds no VM nothing can reach it.
     *
     * @param host the host.
     * @throws IllegalArgumentException if there is no such host, or it was removed already.
     * @throws IllegalStateException    if it is not being drained, or still holds or moves a VM (the count is named).
     */
    public synchronized void removeHost(final int host)
    {
        gate.checkOpen();
        if (config.localHost >= 0)
        {
            throw new IllegalStateException("a node runs one host: a machine leaves a cluster across machines by " +
                "draining its node, then stopping it");
        }
        if (host < 0 || host >= view.hosts)
        {
            throw new IllegalArgumentException("there is no host " + host + " (hosts are 0 to " + (view.hosts - 1) + ")");
        }
        if (view.placement.removed(host))
        {
            throw new IllegalArgumentException("host " + host + " was removed from the cluster");
        }
        if (!view.placement.draining().contains(host))
        {
            throw new IllegalStateException("host " + host + " is not drained: drain it first (Cluster.drain)");
        }
        final HostRuntime runtime = hosts[host];
        final int left = runtime.vmCount() + runtime.outgoingCount() + runtime.arrivingCount();
        if (left > 0)
        {
            throw new IllegalStateException("host " + host + " still holds or moves " + left + " VM" +
                (left == 1 ? "" : "s") + ": wait for its drain to empty it");
        }
        view.placement.removeHost(host); // journaled before the runtime stops
        hosts[host] = null;
        runtime.close();
    }

    /**
     * The inventory of resources (REL claim 9): each host's and the cluster's capacity, reserved, used
     * (measured), required (programmed where set, else smoothed measured), free under the ceilings and
     * overcommit, per resource, and how many more VMs of the given size fit (none on a drained host). Threadsafe;
     * the figures are those of each host's last sample.
     *
     * @param vmCpu    the VM size's CPU, reference cores.
     * @param vmIo     its I/O, bytes a second.
     * @param vmMemory its memory, bytes.
     * @return the inventory of this JVM's hosts.
     * @throws IllegalArgumentException if the size is negative, not finite, or all 0.
     */
    public io.vmsched.placement.Inventory inventory(final double vmCpu, final double vmIo, final double vmMemory)
    {
        gate.checkOpen();
        final List<io.vmsched.placement.Inventory.Row> rows = new ArrayList<>();
        final List<io.vmsched.placement.HostLimits> limits = new ArrayList<>();
        for (int h = 0, n = view.hosts; h < n; h++)
        {
            final HostRuntime runtime = hosts[h];
            if (runtime != null)
            {
                rows.add(runtime.inventory());
                limits.add(view.limits[h]);
            }
        }
        return io.vmsched.placement.Inventory.of(rows, limits, view.placement.constraints(), vmCpu, vmIo, vmMemory);
    }

    /** @return the hosts being drained, each with its VMs left and those that can go nowhere now, in id order. */
    public List<io.vmsched.placement.StatusReport.DrainReport> drains()
    {
        final List<io.vmsched.placement.StatusReport.DrainReport> out = new ArrayList<>();
        for (final int host : view.placement.draining())
        {
            final HostRuntime runtime = host < hosts.length ? hosts[host] : null;
            if (runtime != null)
            {
                final int vms = runtime.vmCount();
                out.add(new io.vmsched.placement.StatusReport.DrainReport(host, vms,
                    vms == 0 ? java.util.Map.of() : view.drainBlocked.get(host)));
            }
        }
        return out;
    }

    /** @return the placement journal's directory ({@code <data>/placement}). */
    public java.nio.file.Path placementJournalDir()
    {
        return placement.dir();
    }

    /**
     * Admit a VM on a host. The guest's kind and snapshot are journaled (ADMITTED) and the host runs a
     * guest made from them by the {@link GuestRegistry}.
     *
     * @param host   the host.
     * @param vmId   the VM's id, unique in the cluster.
     * @param weight its share on the host's dispatcher.
     * @param guest  the workload.
     * @throws IllegalArgumentException if the id is already admitted or the host does not exist.
     * @throws IllegalStateException    if the host's inbox is full.
     */
    public void admit(final int host, final long vmId, final int weight, final Guest guest)
    {
        final String closed = view.placement.constraints().closedReason(host);
        if (closed != null)
        {
            throw new IllegalArgumentException("vm " + vmId + " not admitted: host " + host + " is " + closed +
                " and takes no new VM");
        }
        gate.enter();
        try
        {
            requests.admit(host, vmId, weight, guest);
        }
        finally
        {
            gate.exit();
        }
    }

    /**
     * Admit an external VM: an OS process (a hypervisor's VM process, say) bound by its PID. Its entry
     * is never dispatched; its load comes from {@link #reportUsage} (a metrics agent samples the
     * process), and it is not migrated (no driver moves a process yet). Journaled like any admission. Its balloon
     * ({@link #balloon}) is the driver {@link HostConfig#externalBalloons} gives it, if any (QEMU's
     * {@code io.vmsched.qemu.QemuBalloonDriver}).
     *
     * @param host the host it runs on.
     * @param vmId the VM's id.
     * @param name a name for reports.
     * @param pid  the process id.
     */
    public void admitExternal(final int host, final long vmId, final String name, final long pid)
    {
        admit(host, vmId, 1, new ExternalVm(name, pid));
    }

    /**
     * Adopt a hypervisor's running VM (a QEMU process, say) on a host, through the host's
     * {@link HostConfig#vmDriver}: the driver checks the control socket and the process and learns the VM's launch
     * spec, then the VM is admitted like any (journaled ADMITTED, of kind {@code vm:<driver kind>}, its handle as
     * its state). It is never dispatched; its load comes from {@link #reportUsage} or {@link #programLoad}; it is
     * moved by live migration, by {@link #migrate} or the balancer, to hosts with a driver of the same kind.
     * <p>
     * Threading: any thread but a listener's; it blocks while the driver adopts the VM (a round trip to the
     * hypervisor), then returns as {@link #admit} does.
     *
     * @param host    the host it runs on (this node's own, across machines).
     * @param vmId    the VM's id.
     * @param name    a name for it, unique on the host.
     * @param control its control socket (QEMU: the QMP socket).
     * @param pid     its process.
     * @throws IllegalArgumentException with the driver's one-line reason if the host has no driver or the driver
     *                                  refuses the VM (not its protocol, not its process, adopted already).
     */
    public void adoptVm(final int host, final long vmId, final String name, final java.nio.file.Path control,
        final long pid)
    {
        final HostRuntime runtime = host >= 0 && host < hosts.length ? hosts[host] : null;
        final io.vmsched.vm.VmDriver driver = runtime == null ? null : runtime.vmDriver();
        if (driver == null)
        {
            throw new IllegalArgumentException("vm " + vmId + " not adopted: host " + host +
                (runtime == null ? " does not run here" : " has no VM driver (HostConfig.vmDriver)"));
        }
        final io.vmsched.vm.VmHandle handle;
        try
        {
            handle = driver.adopt(name, control, pid);
        }
        catch (final io.vmsched.vm.VmDriverException ex)
        {
            throw new IllegalArgumentException("vm " + vmId + " not adopted: " + ex.getMessage(), ex);
        }
        admit(host, vmId, 1, new DrivenVm(HostRuntime.DRIVEN_KIND_PREFIX + driver.kind(), handle));
    }

    /**
     * Report an external VM's measured usage; its host folds it into its load at the next sample.
     *
     * @param vmId             the VM.
     * @param cpuCores         reference cores busy.
     * @param ioBytesPerSecond storage I/O rate.
     * @param memoryBytes      resident memory.
     */
    public void reportUsage(final long vmId, final double cpuCores, final double ioBytesPerSecond,
        final double memoryBytes)
    {
        usage(Request.REPORT_USAGE, vmId, cpuCores, ioBytesPerSecond, memoryBytes);
    }

    /**
     * Remove a VM from the cluster (journaled REMOVED at its host). If it is migrating, it is removed
     * where the migration leaves it (until then the request is held in memory only: a crash before
     * forgets it). A failure at the host is reported to {@link ClusterListener#onError}.
     *
     * @param vmId the VM.
     * @throws IllegalArgumentException if it is not in the cluster.
     */
    public void remove(final long vmId)
    {
        gate.enter();
        try
        {
            requests.remove(vmId);
        }
        finally
        {
            gate.exit();
        }
    }

    /**
     * Ask a VM's host to migrate it to another host now (outside the balancer).
     *
     * @param vmId   the VM.
     * @param target the host to move it to.
     * @throws IllegalArgumentException if a hard placement rule forbids the VM on the target (the rule
     *                                  named); a limit of the target's is checked by the target as the VM
     *                                  arrives, and a refusal is an abort ({@link ClusterListener#onAborted}).
     */
    public void migrate(final long vmId, final int target)
    {
        gate.checkOpen();
        if (target >= 0 && target < view.hosts)
        {
            placement.checkMigration(vmId, target);
        }
        gate.enter();
        try
        {
            requests.migrate(vmId, target);
        }
        finally
        {
            gate.exit();
        }
    }

    /**
     * Ask a VM's balloon, the reservation module inside its guest, to hold this much memory and run at this many
     * processors (its weight in the host's proportional share); the guest decides what to free or take, and may give
     * less than asked. The request goes to the VM's host through its inbox; the host journals it
     * (BALLOON_REQUESTED), hands it to the guest's next slice (never waiting for it), and journals how it ended
     * (BALLOON_RESULT): what the guest holds now, or why not ({@link BalloonResult.Outcome}): a bad target is
     * REFUSED with the reason, a guest without a balloon NO_BALLOON, one that throws FAILED, one that does not
     * answer within {@link HostConfig#balloonTimeoutNs} TIMED_OUT; the guest keeps running in every case. A
     * processors change that the guest accepts becomes the VM's weight. One request per VM at a time: another
     * while one is in flight is REFUSED.
     * <p>
     * Threading: any thread but a listener callback's (it would wait for its own inbox when the inbox is full).
     * The future is completed on the host's agent thread, after {@link ClusterListener#onBalloon}: stages
     * chained on it without an executor run there and must not block (use the {@code ...Async} variants).
     *
     * @param vmId        the VM.
     * @param memoryBytes the memory it should hold, bytes; {@link io.vmsched.balloon.BalloonRequest#UNCHANGED}
     *                    to leave it.
     * @param processors  the weight it should run at, at least 1; {@link io.vmsched.balloon.BalloonRequest#UNCHANGED}
     *                    to leave it.
     * @return completed with the result (FAILED if the host closed before the guest answered).
     * @throws IllegalArgumentException if the VM is not in the cluster (or not on this node).
     * @throws IllegalStateException    if the cluster is closed, or the host's inbox stayed full.
     */
    public java.util.concurrent.CompletableFuture<BalloonResult> balloon(final long vmId, final long memoryBytes,
        final int processors)
    {
        gate.enter();
        final long callId = view.balloonCallIds.incrementAndGet();
        final java.util.concurrent.CompletableFuture<BalloonResult> result = new java.util.concurrent.CompletableFuture<>();
        view.balloonCalls.put(callId, result);
        try
        {
            requests.balloon(vmId, memoryBytes, processors, callId);
        }
        catch (final RuntimeException ex)
        {
            view.balloonCalls.remove(callId);
            throw ex;
        }
        finally
        {
            gate.exit();
        }
        return result;
    }

    /**
     * Program a VM's target load (seed VM claims 6, 7): the balancer uses this usage instead of the
     * measured one until {@link #clearProgrammedLoad(long)}.
     *
     * @param vmId             the VM.
     * @param cpuCores         reference cores.
     * @param ioBytesPerSecond I/O rate.
     * @param memoryBytes      memory.
     */
    public void programLoad(final long vmId, final double cpuCores, final double ioBytesPerSecond,
        final double memoryBytes)
    {
        if (!(cpuCores >= 0 && ioBytesPerSecond >= 0 && memoryBytes >= 0))
        {
            throw new IllegalArgumentException("programmed usage must be non-negative");
        }
        usage(Request.PROGRAM_LOAD, vmId, cpuCores, ioBytesPerSecond, memoryBytes);
    }

    /**
     * Back to the measured load for a VM.
     *
     * @param vmId the VM.
     */
    public void clearProgrammedLoad(final long vmId)
    {
        usage(Request.PROGRAM_LOAD, vmId, Double.NaN, 0, 0); // NaN: back to the measured load
    }

    /**
     * Turn every host's balancer on or off.
     *
     * @param on whether hosts exchange with peers.
     */
    public void balancing(final boolean on)
    {
        gate.checkOpen();
        setBalancing(on);
    }

    private synchronized void setBalancing(final boolean on)
    {
        balancingOn = on; // a host added later starts the same way
        for (int h = 0, n = view.hosts; h < n; h++)
        {
            if (hosts[h] != null)
            {
                hosts[h].balancing(on);
            }
        }
    }

    /**
     * @param host a host.
     * @return its last published load (NaN if it is down).
     */
    public double load(final int host)
    {
        gate.checkOpen();
        requests.checkHost(host);
        return view.load(host);
    }

    /** @return every host's last published load. */
    public double[] loads()
    {
        gate.checkOpen();
        final int n = view.hosts;
        final double[] loads = new double[n];
        for (int h = 0; h < n; h++)
        {
            loads[h] = view.load(h);
        }
        return loads;
    }

    /** @return coefficient of variation of the hosts' loads. */
    public double cv()
    {
        return io.vmsched.load.ClusterStats.cv(loads());
    }

    /** @return which host owns each VM (from ACTIVATED on, a migrated VM belongs to its target). */
    public Map<Long, Integer> placement()
    {
        gate.checkOpen();
        return new TreeMap<>(view.owners);
    }

    /** @return migrations committed in this run. */
    public long migrationsCommitted()
    {
        return view.committed.get();
    }

    /** @return migrations aborted in this run (counted at the source). */
    public long migrationsAborted()
    {
        return view.aborted.get();
    }

    /** @return migrations in flight (sources that have not learned the outcome yet). */
    public int migrationsInFlight()
    {
        gate.checkOpen();
        return inFlight();
    }

    private int inFlight()
    {
        int total = 0;
        for (int h = 0, n = view.hosts; h < n; h++)
        {
            total += hosts[h] == null ? 0 : hosts[h].outgoingCount();
        }
        return total;
    }

    /** @return arrivals accepted by a node's host and waiting for the owner registry's answer (0 embedded). */
    private int arriving()
    {
        int total = 0;
        for (int h = 0, n = view.hosts; h < n; h++)
        {
            total += hosts[h] == null ? 0 : hosts[h].arrivingCount();
        }
        return total + liveArriving();
    }

    /** @return driven VMs arriving at a node's hosts: copies being started, watched or let run (0 embedded). */
    private int liveArriving()
    {
        int total = 0;
        for (int h = 0, n = view.hosts; h < n; h++)
        {
            total += hosts[h] == null ? 0 : hosts[h].liveArrivingCount();
        }
        return total;
    }

    /** @return where the journals are. */
    public List<java.nio.file.Path> journalDirs()
    {
        final List<java.nio.file.Path> dirs = new ArrayList<>();
        for (int h = 0, n = view.hosts; h < n; h++)
        {
            if (config.runsHere(h))
            {
                dirs.add(config.journalDir(h));
            }
        }
        return dirs;
    }

    /**
     * Refuse new calls, stop balancing and draining (no host starts a migration once its agent has seen the
     * close), let every accepted request and every migration in flight
     * (a node's arrivals waiting for the owner registry's answer included) finish (while the hosts make progress; a host stalled for a few handoff timeouts reports what it
     * still holds as failed, and a migration still in flight stays in the journal for recovery to
     * resolve), then stop every thread and close every journal. Idempotent; a second, concurrent
     * call returns at once.
     *
     * @throws IllegalStateException if called from a listener callback (it would wait for itself).
     */
    @Override
    public void close()
    {
        if (requests.onAnAgentThread())
        {
            // it would wait for the very agent it runs on: refuse rather than hang
            throw new IllegalStateException("close() cannot be called from a listener callback (a host's agent thread)");
        }
        if (!closing.compareAndSet(false, true))
        {
            return;
        }
        gate.closeAndWait(); // from here every call throws; the calls already past the gate have queued
        setBalancing(false);
        final long stallLimit = Math.max(4 * config.host.handoffTimeoutNs, 2_000_000_000L);
        // no host starts a migration from here: a balance or drain turn under way when balancing went off may still
        // start one, so wait until each agent has seen it (then its in-flight count holds every migration it started)
        synchronized (this)
        {
            for (final HostRuntime host : hosts)
            {
                if (host != null)
                {
                    host.quiesce();
                }
            }
        }
        final long quiesceBy = System.nanoTime() + stallLimit;
        for (final HostRuntime host : hosts)
        {
            while (host != null && !host.quiesced() && System.nanoTime() - quiesceBy < 0)
            {
                java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // an agent that stopped: given up on below
            }
        }
        // settle what was accepted: wait while the hosts make progress on it
        long lastPending = -1;
        int lastInFlight = -1;
        long progressNs = System.nanoTime();
        while (true)
        {
            final long pending = view.pending.get();
            final int inFlight = inFlight() + arriving(); // arrivals too: the registry's answer, a copy being loaded
            final long now = System.nanoTime();
            // a live migration shows no progress while the hypervisor copies the VM: a target that gave up on it
            // would close with its copy activated but never let run, so it is waited for up to its own timeout
            final long limit = liveArriving() > 0 ? Math.max(stallLimit, config.host.vmMigrationTimeoutNs) : stallLimit;
            if (pending <= 0 && inFlight == 0 || now - progressNs > limit)
            {
                break; // a host that stalled reports what it still holds as failed when it closes
            }
            if (pending != lastPending || inFlight != lastInFlight)
            {
                lastPending = pending;
                lastInFlight = inFlight;
                progressNs = now;
            }
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        synchronized (this) // no host is being added while they close
        {
            for (final HostRuntime host : hosts)
            {
                if (host != null)
                {
                    transports.detach(host.hostId());
                }
            }
            for (final HostRuntime host : hosts)
            {
                if (host != null)
                {
                    host.close();
                }
            }
        }
        placement.close();
        transports.close();
        dataDirectory.close();
    }

    private void usage(final Request request, final long vmId, final double cpu, final double io, final double memory)
    {
        gate.enter();
        try
        {
            requests.usage(request, vmId, cpu, io, memory);
        }
        finally
        {
            gate.exit();
        }
    }
}
