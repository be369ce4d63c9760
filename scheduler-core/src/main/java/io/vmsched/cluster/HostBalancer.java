package io.vmsched.cluster;

import io.vmsched.balance.BalanceDecision;
import io.vmsched.balance.Exchange;
import io.vmsched.balance.HostView;
import io.vmsched.balance.LoadTable;
import io.vmsched.handoff.HostMessages;
import io.vmsched.journal.Journal;
import io.vmsched.journal.RecordType;
import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadModel;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The runtime's side of a host's balance {@link Exchange} (the one the simulator runs too): the host
 * seen as a {@link HostView} (its VM table, the loads its peers publish, the capacities that turn a
 * VM's load factors into its load on a peer) and the exchange's acts (a share of the mean estimate
 * sent to the peer, a handoff started, the decision journaled).
 * <p>
 * Residency and ping-pong count in balance periods from a VM's arrival by migration; a VM admitted
 * or recovered here is never held by them.
 * <p>
 * <b>Note:</b> Not threadsafe: the host's agent only.
 */
final class HostBalancer implements HostView, Exchange.Actions
{
    private final int hostId;
    private final ClusterView view;
    private final Journal journal;
    private final VmTable vms;
    private final HandoffSource source;
    private final Forwarder forwarder;
    private final LoadModel model;
    private final HostCapacity capacity;
    private final Exchange exchange;
    private final HostMessages.MeanShare share = new HostMessages.MeanShare();
    private final HostMessages.Pull pull = new HostMessages.Pull();
    private final HostMessages.MeanShare reply = new HostMessages.MeanShare();
    private final UnsafeBuffer replyBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(HostMessages.MeanShare.LENGTH));
    private final UnsafeBuffer pullBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(HostMessages.Pull.LENGTH));
    private final UnsafeBuffer shareBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(HostMessages.MeanShare.LENGTH));
    private final HostMessages.LoadFigures figures = new HostMessages.LoadFigures();
    private final UnsafeBuffer figuresBuffer;
    private final long period;
    private final io.vmsched.balance.BalanceConfig balanceConfig;
    final AtomicLong repairs = new AtomicLong();
    /** Migrations started by drain turns. */
    final AtomicLong evacuations = new AtomicLong();
    private final int drainParallel;
    private double load;
    private long now;

    final AtomicLong decisions = new AtomicLong();

    HostBalancer(final int hostId, final HostConfig config, final ClusterView view, final Journal journal,
        final VmTable vms, final HandoffSource source, final Forwarder forwarder, final LoadModel model,
        final HostCapacity capacity)
    {
        this.hostId = hostId;
        this.view = view;
        this.journal = journal;
        this.vms = vms;
        this.source = source;
        this.forwarder = forwarder;
        this.model = model;
        this.capacity = capacity;
        this.period = config.balancePeriodNs;
        this.drainParallel = config.drainParallel;
        this.balanceConfig = config.balance;
        this.exchange = new Exchange(config.balance.forHosts(view.hosts), config.balancePeriodNs,
            Exchange.seedFor(config.seed, hostId), true); // the cluster's size is fixed at start
        this.figuresBuffer = new UnsafeBuffer(ByteBuffer.allocateDirect(HostMessages.LoadFigures.length(view.capacity)));
        exchange.rule(guard);
        figures.wrap(figuresBuffer, 0);
        share.wrap(shareBuffer, 0);
        pull.wrap(pullBuffer, 0);
        reply.wrap(replyBuffer, 0);
    }

    /**
     * Run one exchange.
     *
     * @param load this host's load, as last sampled.
     * @param now  the agent's clock.
     */
    void exchange(final double load, final long now)
    {
        this.load = load;
        this.now = now;
        repair(now);
        exchange.run(this, now, this);
        view.publishHeavy(hostId, exchange.heavyHost(), exchange.heavyLoad(), exchange.heavyAt());
    }

    /**
     * This host's load was sampled (what a pull that arrives before the next exchange pairs with).
     *
     * @param load the load.
     * @param now  the agent's clock.
     */
    void sampled(final double load, final long now)
    {
        this.load = load;
        this.now = now;
    }

    // the balloons may still free this host's memory (HostBalloons.turn, at its last balance turn): shed nothing
    private boolean heldForBalloons;

    /** @param held whether the balloons hold this host's migrations until the next balance turn (agent thread). */
    void heldForBalloons(final boolean held)
    {
        heldForBalloons = held;
    }

    /** A light host asked this one to shed to it (agent thread): the same pair as a push to it. */
    void onPull(final HostMessages.Pull message, final boolean balancing)
    {
        if (balancing && !heldForBalloons) // a host whose balancing is off, or held for its balloons, sheds to no one
        {
            exchange.pulled(this, now, this, message.from(), message.load());
        }
    }

    /**
     * @param now a time on the agents' shared clock.
     * @return the start of the balance period after the one {@code now} is in (periods are aligned
     *         on the shared clock, so a period means the same moment to every host).
     */
    long nextPeriodNs(final long now)
    {
        return (Math.floorDiv(now, period) + 1) * period;
    }

    /**
     * When, in the period that starts at {@code periodStart}, this host takes its turn: drawn from
     * its load as the period starts ({@link Exchange#turnPhase}).
     *
     * @param periodStart the period's start.
     * @param load        this host's load now.
     * @return the clock's time of its exchange.
     */
    long turnNs(final long periodStart, final double load)
    {
        return periodStart + (long)(period * exchange.turnPhase(load));
    }

    /** A VM left this host by a committed migration: a move of load, no change of the mean (agent thread). */
    void left(final HostVm vm)
    {
        exchange.mean().moved(-model.load(vm.load.factors(), capacity));
    }

    /** A VM arrived by a committed migration: a move of load, no change of the mean (agent thread). */
    void arrived(final HostVm vm)
    {
        exchange.mean().moved(model.load(vm.load.factors(), capacity));
    }

    /** A peer's share of the mean estimate arrived: average, and answer the change its estimate takes. */
    void onMeanShare(final HostMessages.MeanShare message)
    {
        final double delta = exchange.mean().receive(message.estimate());
        reply.set(delta, hostId);
        forwarder.send(message.from(), HostMessages.MEAN_REPLY, replyBuffer, 0, HostMessages.MeanShare.LENGTH);
    }

    /**
     * A contact's table arrived (gossip view, agent thread): set this host's own figure, merge, and, if it
     * is a GOSSIP rather than the answer to one, answer with the merged table.
     *
     * @param message the figures.
     * @param length  the message's length.
     * @param answer  whether to answer (a GOSSIP; a GOSSIP_REPLY is not answered).
     */
    void onGossip(final HostMessages.LoadFigures message, final int length, final boolean answer)
    {
        final int count = message.count();
        if (count < 0 || HostMessages.LoadFigures.length(count) > length)
        {
            throw new IllegalArgumentException("gossip from host " + message.from() + " malformed: " + count +
                " figures in " + length + " bytes");
        }
        final LoadTable table = exchange.table();
        final int hosts = view.hosts;
        for (int i = 0; i < count; i++)
        {
            final int host = message.host(i);
            if (host >= 0 && host < hosts && host != hostId) // no peer tells a host its own load
            {
                table.put(host, message.load(i), message.takenAt(i));
            }
        }
        if (answer)
        {
            exchange.ownFigure(hostId, load, now);
            send(message.from(), HostMessages.GOSSIP_REPLY, table);
        }
    }

    @Override
    public void gossip(final int peer, final LoadTable table)
    {
        send(peer, HostMessages.GOSSIP, table);
    }

    private void send(final int peer, final int type, final LoadTable table)
    {
        final int room = Math.min(table.size(), view.capacity);
        int n = 0;
        for (int h = 0; h < room; h++)
        {
            final long at = table.at(h);
            if (at != LoadTable.UNKNOWN)
            {
                figures.figure(n++, h, table.load(h), at);
            }
        }
        figures.header(hostId, n);
        forwarder.send(peer, type, figuresBuffer, 0, HostMessages.LoadFigures.length(n)); // kept if the inbox is full
    }

    /** The answer to this host's share arrived. */
    void onMeanReply(final HostMessages.MeanShare message)
    {
        exchange.mean().adjust(message.estimate());
    }

    /** @return this host's table of loads (gossip view; agent thread, or a test's with the agent stopped). */
    LoadTable loadTable()
    {
        return exchange.table();
    }

    /** @return this host's estimate of the cluster's mean load. */
    double meanEstimate()
    {
        return exchange.mean().estimate();
    }

    // ------------------------------------------------------------------------------------------
    // The host as the exchange sees it.
    // ------------------------------------------------------------------------------------------

    @Override
    public int hostId()
    {
        return hostId;
    }

    @Override
    public int hosts()
    {
        return view.hosts;
    }

    @Override
    public double load()
    {
        return load;
    }

    @Override
    public double peerLoad(final int host)
    {
        final double shared = view.load(host);
        if (view.remote(host) && !Double.isNaN(shared))
        {
            // a node's peer is another process, up by the directory: its load as last gossiped, or the
            // directory's figure until a figure of it arrives
            final LoadTable table = exchange.table();
            return host < table.size() && table.at(host) != LoadTable.UNKNOWN ? table.load(host) : shared;
        }
        return shared;
    }

    @Override
    public int inFlight()
    {
        return source.size();
    }

    @Override
    public int vmCount()
    {
        return vms.size();
    }

    @Override
    public long vmId(final int vm)
    {
        return vms.at(vm).vmId;
    }

    @Override
    public double vmLoad(final int vm)
    {
        return model.load(vms.at(vm).load.factors(), capacity);
    }

    @Override
    public double vmLoadOn(final int vm, final int host)
    {
        return model.load(vms.at(vm).load.factors(), view.capacities[host]); // what the peer computes from the factors
    }

    @Override
    public double volatility(final int vm)
    {
        return vms.at(vm).volatility.value();
    }

    @Override
    public int movingTo(final int vm)
    {
        final HandoffSource.Outgoing out = vms.at(vm).out;
        return out == null ? -1 : out.peer;
    }

    @Override
    public boolean pinned(final int vm)
    {
        return !source.movable(vms.at(vm));
    }

    @Override
    public long arrivedAt(final int vm)
    {
        return vms.at(vm).arrivedNs;
    }

    @Override
    public int cameFrom(final int vm)
    {
        return vms.at(vm).cameFrom;
    }

    /**
     * Mend the rules this host's VMs break where they run ({@link io.vmsched.placement.Repair}, the
     * simulator's too), at most {@link io.vmsched.placement.Repair#budget} a turn.
     *
     * @return migrations started.
     */
    int repair(final long now)
    {
        final io.vmsched.placement.Constraints rules = view.placement.constraints();
        if (rules.ruleCount() == 0 || balanceConfig.dryRun)
        {
            return 0; // a dry run moves nothing, repairs included (as the simulator's)
        }
        final int most = io.vmsched.placement.Repair.budget(balanceConfig, source.size());
        final int started = io.vmsched.placement.Repair.run(rules, this, owners, limits, most, this);
        repairs.addAndGet(started);
        return started;
    }

    /** @return whether this host is being drained (its turns move its VMs away instead of balancing). */
    boolean draining()
    {
        return view.placement.constraints().closed(hostId);
    }

    /**
     * A draining host's turn: up to {@link HostConfig#drainParallel} of its VMs in flight away at once, each
     * to where the placement chooses ({@link io.vmsched.placement.Repair#evacuate}); a VM that can go
     * nowhere now is published with why ({@link ClusterView#drainBlocked}).
     *
     * @param now the agent's clock.
     * @return migrations started.
     */
    int evacuate(final long now)
    {
        this.now = now;
        final java.util.Map<Long, String> blocked = new java.util.TreeMap<>(); // a drain is rare: not the hot path
        final int most = io.vmsched.placement.Repair.drainBudget(drainParallel, source.size());
        final int started = most <= 0 ? 0 : io.vmsched.placement.Repair.evacuate(view.placement.constraints(), this,
            owners, limits, most, this, (vmId, cause, host) ->
                blocked.put(vmId, io.vmsched.placement.Repair.blockedText(cause, host)));
        if (most > 0)
        {
            view.drainBlocked.set(hostId, java.util.Collections.unmodifiableMap(blocked));
        }
        evacuations.addAndGet(started);
        return started;
    }

    /** The peer's capacity limits, by the usage it last published. */
    private final io.vmsched.balance.PlacementRule limits = this::limitRefuses;

    private String limitRefuses(final HostView host, final int vm, final int peer)
    {
        final io.vmsched.load.LoadFactors f = vms.at(vm).load.factors();
        return view.refusedByLimits(peer, f.cpuCores, f.ioBytesPerSecond, f.memoryBytes);
    }

    /** Where VMs are: {@link ClusterView#hostOf}. */
    private final io.vmsched.placement.Constraints.Locator owners = this::ownerOf;

    private int ownerOf(final long vmId)
    {
        return view.hostOf(vmId);
    }

    /** @return the cluster's owner map as a locator (repair and the API read it too). */
    io.vmsched.placement.Constraints.Locator owners()
    {
        return owners;
    }

    /** The exchange's check of a candidate: the rules in force, then the peer's limits (the simulator's too). */
    private final io.vmsched.placement.ExchangeGuard guard =
        new io.vmsched.placement.ExchangeGuard(this::constraints, owners, limits);

    private io.vmsched.placement.Constraints constraints()
    {
        return view.placement.constraints();
    }

    // ------------------------------------------------------------------------------------------
    // What the exchange does here.
    // ------------------------------------------------------------------------------------------

    @Override
    public double shareMean(final int peer, final double estimate)
    {
        share.set(estimate, hostId);
        forwarder.send(peer, HostMessages.MEAN_SHARE, shareBuffer, 0, HostMessages.MeanShare.LENGTH); // kept if the inbox is full
        return Double.NaN; // the answer comes as MEAN_REPLY
    }

    @Override
    public void pull(final int heavy, final double ownLoad)
    {
        pull.set(ownLoad, hostId);
        forwarder.send(heavy, HostMessages.PULL, pullBuffer, 0, HostMessages.Pull.LENGTH); // kept if the inbox is full
    }

    @Override
    public int peerHeavyHost(final int host)
    {
        return view.heavyHost.get(host);
    }

    @Override
    public double peerHeavyLoad(final int host)
    {
        return Double.longBitsToDouble(view.heavyLoadBits.get(host));
    }

    @Override
    public long peerHeavyAt(final int host)
    {
        return view.heavyAt.get(host);
    }

    @Override
    public void migrate(final long vmId, final int vm, final int peer, final double onSource, final double onPeer)
    {
        source.start(vms.get(vmId), peer, onSource, onPeer, now);
    }

    @Override
    public void decided(final BalanceDecision decision, final int moves, final long firstVm)
    {
        decisions.incrementAndGet();
        final String detail = decision.toString();
        journal.appendText(RecordType.DECISION, 0, firstVm, decision.peer(), moves, decision.sourceLoad(),
            decision.peerLoad(), decision.decisionOutcome().code(), detail);
        io.vmsched.jfr.FlightEvents.balanceDecision(hostId, decision.peer(), decision.sourceLoad(), decision.peerLoad(),
            decision.threshold(), decision.meanEstimate(), decision.decisionOutcome().label(), moves, firstVm, detail);
    }
}
