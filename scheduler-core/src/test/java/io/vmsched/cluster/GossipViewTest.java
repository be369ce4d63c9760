package io.vmsched.cluster;

import io.vmsched.balance.BalanceConfig;
import io.vmsched.balance.LoadTable;
import io.vmsched.dispatch.Await;
import io.vmsched.handoff.HostMessages;
import io.vmsched.load.ClusterStats;
import io.vmsched.load.LoadModel;
import io.vmsched.load.LoadWeights;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The runtime's gossip view ({@link BalanceConfig.PeerView#GOSSIP}): tables of loads travel as GOSSIP
 * and GOSSIP_REPLY messages in quiet periods, merge newest-first, refuse what no peer may say, and a
 * cluster in that view balances.
 */
class GossipViewTest
{
    private static final long PERIOD_NS = 1_000_000_000L;
    private static final int HOSTS = 9;

    private static BalanceConfig gossip()
    {
        final BalanceConfig balance = new BalanceConfig();
        balance.view = BalanceConfig.PeerView.GOSSIP;
        balance.peerChoices = BalanceConfig.MAX_CONTACTS;
        balance.thresholdFraction = 0.10;
        balance.shedOnlyAboveMean = true;
        balance.maxMovesPerExchange = 1;
        return balance.validate();
    }

    private static HostConfig hostConfig()
    {
        final HostConfig config = new HostConfig();
        config.balance = gossip();
        config.balancePeriodNs = PERIOD_NS;
        config.weights = LoadWeights.CPU_ONLY;
        return config;
    }

    @Test
    void aQuietPeriodSendsTheTableAndAnAnswerMergesNewestFirst(@TempDir final Path dir)
    {
        final HostConfig config = hostConfig();
        final ClusterView view = new ClusterView(HOSTS, capacities(config), new ClusterListener()
        {
        });
        config.balance.shedOnlyAboveMean = false; // a lone host's mean estimate is its own load
        for (int h = 1; h < HOSTS; h++)
        {
            view.publishLoad(h, 0.01 * h);
        }
        final HandoffSidesTest.Captured wire0 = new HandoffSidesTest.Captured();
        final HandoffSidesTest.Captured wire1 = new HandoffSidesTest.Captured();
        try (HandoffSidesTest.Host host0 = new HandoffSidesTest.Host(0, dir.resolve("0"), view, wire0, config);
            HandoffSidesTest.Host host1 = new HandoffSidesTest.Host(1, dir.resolve("1"), view, wire1, config))
        {
            final HostBalancer b0 = balancer(0, config, view, host0, wire0);
            final HostBalancer b1 = balancer(1, config, view, host1, wire1);
            for (int v = 0; v < 4; v++)
            {
                host0.place(v).load.program(0.25, 0, 0);
            }
            final long quiet = 10 * PERIOD_NS + PERIOD_NS / 2; // period 10: even, quiet
            b1.sampled(0.7, quiet);
            b0.exchange(0.5, quiet);
            assertEquals(0, host0.source.size(), "nobody moves in a quiet period");
            final HandoffSidesTest.Captured.Message toPeer = wire0.sent.stream()
                .filter(m -> m.type() == HostMessages.GOSSIP && m.to() == 1).findFirst()
                .orElseGet(() -> wire0.sent.stream().filter(m -> m.type() == HostMessages.GOSSIP).findFirst().orElseThrow());
            final long gossips = wire0.sent.stream().filter(m -> m.type() == HostMessages.GOSSIP).count();
            assertTrue(gossips >= 1 && gossips <= BalanceConfig.MAX_CONTACTS, gossips + " contacts");

            // host 1 receives host 0's table: it learns host 0's figure, stamped with the quiet period's start
            final HostMessages.LoadFigures figures = new HostMessages.LoadFigures();
            b1.onGossip(figures.wrapRead(toPeer.bytes(), 0), toPeer.length(), true);
            final LoadTable table1 = table(b1);
            assertEquals(0.5, table1.load(0), 1e-12);
            assertEquals(10 * PERIOD_NS, table1.at(0));

            // its answer carries its own figure, and host 0 merges it
            final HandoffSidesTest.Captured.Message reply = wire1.next(HostMessages.GOSSIP_REPLY);
            assertEquals(0, reply.to());
            b0.onGossip(figures.wrapRead(reply.bytes(), 0), reply.length(), false);
            assertEquals(0.7, table(b0).load(1), 1e-12);
            assertTrue(wire0.sent.stream().noneMatch(m -> m.type() == HostMessages.GOSSIP_REPLY), "an answer is not answered");

            // a repeated or older figure changes nothing; a figure about the receiver itself is refused
            final UnsafeBuffer forged = new UnsafeBuffer(new byte[HostMessages.LoadFigures.length(2)]);
            final HostMessages.LoadFigures writer = new HostMessages.LoadFigures().wrap(forged, 0);
            writer.header(0, 2).figure(0, 1, 99.0, 5 * PERIOD_NS).figure(1, 0, 0.0, 99 * PERIOD_NS);
            b0.onGossip(figures.wrapRead(forged, 0), forged.capacity(), false);
            assertEquals(0.7, table(b0).load(1), 1e-12, "an older figure does not replace a newer one");
            assertEquals(0.5, table(b0).load(0), 1e-12, "no peer tells a host its own load");

            // a malformed message is refused with its sender named, and the table is unchanged
            writer.header(3, 1000);
            final IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> b0.onGossip(figures.wrapRead(forged, 0), forged.capacity(), false));
            assertTrue(bad.getMessage().contains("host 3") && bad.getMessage().contains("1000 figures"), bad.getMessage());
            assertEquals(0.7, table(b0).load(1), 1e-12);

            // the next period is active: the host sheds to a light contact
            wire0.sent.clear();
            b0.exchange(0.5, 11 * PERIOD_NS + PERIOD_NS / 2);
            assertEquals(1, host0.source.size(), "an active period starts a handoff");
            assertTrue(wire0.sent.stream().noneMatch(m -> m.type() == HostMessages.GOSSIP), "and gossips no table");
        }
    }

    @Test
    void aClusterInTheGossipViewBalances(@TempDir final Path dir)
    {
        final int hosts = 8;
        final int vms = 160;
        final ClusterConfig config = ClusterConfig.of(hosts, dir);
        config.host.balance = gossip();
        config.host.balance.maxConcurrentPerHost = 8;
        config.host.balancing = true;
        config.host.balancePeriodNs = 50_000_000L;
        config.host.samplePeriodNs = 20_000_000L;
        config.host.handoffTimeoutNs = 500_000_000L;
        config.host.scheduleCapacity = 256;
        final SplittableRandom random = new SplittableRandom(3);
        try (Cluster cluster = Cluster.start(config))
        {
            cluster.balancing(false);
            for (long vm = 0; vm < vms; vm++)
            {
                cluster.admit(vm < vms / 2 ? (int)(vm % 2) : (int)(vm % hosts), vm, 1, new TrackingGuest(vm));
                cluster.programLoad(vm, 0.002 * (0.5 + random.nextDouble()), 0, 0);
            }
            Await.until("the hosts measure the imbalance", 20, () -> cluster.placement().size() == vms &&
                ClusterStats.cv(cluster.loads()) > 0.8);
            cluster.balancing(true);
            Await.until("the gossip view balances to CV <= 0.15", 60, () -> ClusterStats.cv(cluster.loads()) <= 0.15);
            cluster.balancing(false);
            Await.until("the handoffs under way settle", 10, () -> cluster.migrationsInFlight() == 0);
            assertEquals(vms, cluster.placement().size(), "every VM on exactly one host");
            assertTrue(cluster.migrationsCommitted() <= 2L * vms, cluster.migrationsCommitted() + " migrations");
        }
    }

    private static io.vmsched.load.HostCapacity[] capacities(final HostConfig config)
    {
        final io.vmsched.load.HostCapacity[] capacities = new io.vmsched.load.HostCapacity[HOSTS];
        java.util.Arrays.fill(capacities, config.capacity());
        return capacities;
    }

    private static HostBalancer balancer(final int id, final HostConfig config, final ClusterView view,
        final HandoffSidesTest.Host host, final HandoffSidesTest.Captured wire)
    {
        return new HostBalancer(id, config, view, host.journal, host.vms, host.source, new Forwarder(id, HOSTS, wire),
            new LoadModel(config.weights), config.capacity());
    }

    private static LoadTable table(final HostBalancer balancer)
    {
        return balancer.loadTable();
    }
}
