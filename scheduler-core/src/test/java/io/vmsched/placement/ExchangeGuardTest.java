package io.vmsched.placement;

import io.vmsched.balance.HostView;
import io.vmsched.balance.Rejection;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class ExchangeGuardTest
{
    /** A host's candidate slots, each holding a VM id that the test changes. */
    private static final class Slots implements HostView
    {
        final long[] ids;

        Slots(final int count)
        {
            ids = new long[count];
        }

        @Override
        public int hostId()
        {
            return 0;
        }

        @Override
        public int hosts()
        {
            return 16;
        }

        @Override
        public double load()
        {
            return 1;
        }

        @Override
        public double peerLoad(final int host)
        {
            return 0;
        }

        @Override
        public int inFlight()
        {
            return 0;
        }

        @Override
        public int vmCount()
        {
            return ids.length;
        }

        @Override
        public long vmId(final int vm)
        {
            return ids[vm];
        }

        @Override
        public double vmLoad(final int vm)
        {
            return 0.1;
        }

        @Override
        public double vmLoadOn(final int vm, final int host)
        {
            return 0.1;
        }

        @Override
        public double volatility(final int vm)
        {
            return 0;
        }

        @Override
        public int movingTo(final int vm)
        {
            return -1;
        }

        @Override
        public boolean pinned(final int vm)
        {
            return false;
        }

        @Override
        public long arrivedAt(final int vm)
        {
            return NEVER;
        }

        @Override
        public int cameFrom(final int vm)
        {
            return -1;
        }
    }

    /** What the guard must answer: the rules in force, asked afresh. */
    private static String expected(final Constraints c, final long vmId, final int peer, final Constraints.Locator where)
    {
        final int broken = c.breaks(c.rulesOf(vmId), vmId, peer, where, true, false);
        return broken < 0 ? null : c.rule(broken).name();
    }

    @Test
    void aSlotAnswersOnlyForTheVmInItAndTheRulesInForce()
    {
        final SplittableRandom random = new SplittableRandom(17);
        final int hosts = 8;
        final Constraints[] inForce = { ConstraintsTest.randomRules(random, hosts) };
        final int[] hostOf = new int[40];
        for (int vm = 0; vm < hostOf.length; vm++)
        {
            hostOf[vm] = random.nextInt(hosts);
        }
        final Constraints.Locator where = vm -> vm < hostOf.length ? hostOf[(int)vm] : -1;
        final ExchangeGuard guard = new ExchangeGuard(() -> inForce[0], where, null);
        final Slots view = new Slots(12);
        int refused = 0;
        int screened = 0;
        for (int step = 0; step < 20_000; step++)
        {
            switch (random.nextInt(6))
            {
                case 0 -> inForce[0] = ConstraintsTest.randomRules(random, hosts); // new rules: every slot stale
                case 1 -> view.ids[random.nextInt(view.ids.length)] = random.nextInt(40); // a VM arrived in a slot
                case 2 ->
                {
                    final int a = random.nextInt(view.ids.length); // a departure's swap
                    final int b = random.nextInt(view.ids.length);
                    final long t = view.ids[a];
                    view.ids[a] = view.ids[b];
                    view.ids[b] = t;
                }
                case 3 -> hostOf[random.nextInt(hostOf.length)] = random.nextInt(hosts); // a VM elsewhere moved
                default ->
                {
                }
            }
            final int peer = random.nextInt(hosts + 1);
            final int slot = random.nextInt(view.ids.length);
            final String want = expected(inForce[0], view.ids[slot], peer, where);
            assertEquals(want, guard.refuses(view, slot, peer), "step " + step);
            refused += want != null ? 1 : 0;
            if (step % 7 == 0)
            {
                // the screen refuses only what refuses refuses, naming it the same, and passes the rest on
                final Rejection[] blocked = new Rejection[view.ids.length];
                Arrays.fill(blocked, Rejection.NONE);
                final String[] names = new String[view.ids.length];
                guard.screen(view, peer, view.ids.length, blocked, names);
                final Rejection[] unnamed = new Rejection[view.ids.length];
                Arrays.fill(unnamed, Rejection.NONE);
                guard.screen(view, peer, view.ids.length, unnamed, null);
                assertArrayEquals(blocked, unnamed, "step " + step);
                for (int i = 0; i < view.ids.length; i++)
                {
                    if (blocked[i] == Rejection.RULE)
                    {
                        assertEquals(expected(inForce[0], view.ids[i], peer, where), names[i], "step " + step);
                        assertNotNull(names[i]);
                        screened++;
                    }
                }
            }
        }
        assertTrue(refused > 2_000 && screened > 500, refused + " refused, " + screened + " screened");
    }
}
