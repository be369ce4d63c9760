package io.vmsched.aeron;

import org.junit.jupiter.api.Test;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LoopbackPortsTest
{
    @Test
    void portsAreFreeConsecutiveAndBelowTheEphemeralRange() throws Exception
    {
        final int start = LoopbackPorts.ephemeralStart();
        for (int i = 0; i < 20; i++)
        {
            final int base = LoopbackPorts.freeUdpPorts(6);
            assertTrue(base >= LoopbackPorts.LOWEST && base + 6 <= start, base + " not in " + LoopbackPorts.LOWEST + ".." + start);
            final List<DatagramSocket> held = new ArrayList<>();
            try
            {
                for (int p = base; p < base + 6; p++)
                {
                    held.add(new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), p)));
                }
            }
            finally
            {
                held.forEach(DatagramSocket::close);
            }
        }
        final int one = LoopbackPorts.freeUdpPort();
        assertTrue(one >= LoopbackPorts.LOWEST && one < start);
    }

    @Test
    void aCountBelowOneIsRefused()
    {
        assertEquals("count must be at least 1, got 0",
            assertThrows(IllegalArgumentException.class, () -> LoopbackPorts.freeUdpPorts(0)).getMessage());
    }
}
