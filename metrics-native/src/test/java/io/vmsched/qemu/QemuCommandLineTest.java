package io.vmsched.qemu;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@link QemuCommandLine}: what a spec keeps of a command line, and how the control socket is found in it. */
class QemuCommandLineTest
{
    private static final Path CONTROL = Path.of("/run/vm/web-1.qmp");
    private static final String Q = "/usr/bin/qemu-system-x86_64";

    private static QemuCommandLine.Result strip(final String... args)
    {
        return QemuCommandLine.strip(List.of(args), CONTROL, Path.of("/run"));
    }

    @Test
    void theControlQmpPidfileDaemonizeIncomingAndFreezeGoTheRestStaysInOrder()
    {
        final QemuCommandLine.Result r = strip(Q, "-M", "q35", "-S", "-m", "256", "-pidfile", "/run/vm/web-1.pid",
            "-qmp", "unix:/run/vm/web-1.qmp,server=on,wait=off", "-daemonize", "-incoming", "tcp:0:4444",
            "-qmp", "unix:/run/vm/web-1-balloon.qmp,server=on,wait=off", "-drive", "file=/img/web-1.qcow2,if=virtio",
            "disk.img");
        assertTrue(r.servesControl());
        assertEquals(List.of(Q, "-M", "q35", "-m", "256", "-qmp", "unix:/run/vm/web-1-balloon.qmp,server=on,wait=off",
            "-drive", "file=/img/web-1.qcow2,if=virtio", "disk.img"), r.spec());
        assertEquals(List.of("/run/vm/web-1.qmp", "/run/vm/web-1-balloon.qmp"), r.monitorSockets());
    }

    @Test
    void aChardevSocketUsedByAMonIsTheControlSocketWithItsMon()
    {
        final QemuCommandLine.Result r = strip(Q, "-chardev", "socket,id=mon0,path=/run/vm/web-1.qmp,server=on,wait=off",
            "-mon", "chardev=mon0,mode=control", "-chardev", "socket,id=ser0,path=/run/vm/serial.sock,server=on,wait=off",
            "-serial", "chardev:ser0", "-nodefaults");
        assertTrue(r.servesControl());
        assertEquals(List.of(Q, "-chardev", "socket,id=ser0,path=/run/vm/serial.sock,server=on,wait=off",
            "-serial", "chardev:ser0", "-nodefaults"), r.spec());

        // the same chardev without a -mon is no monitor: kept, and the command line serves no control socket
        final QemuCommandLine.Result serial = strip(Q, "-chardev", "socket,id=c,path=/run/vm/web-1.qmp,server=on",
            "-serial", "chardev:c");
        assertFalse(serial.servesControl());
        assertEquals(4 + 1, serial.spec().size());
        // -mon's chardev may be written without its key
        assertTrue(strip(Q, "-chardev", "socket,id=m,path=/run/vm/web-1.qmp,server=on", "--mon", "m,mode=control")
            .servesControl());
    }

    @Test
    void pathsAreComparedResolvedAndUnescaped()
    {
        assertTrue(strip(Q, "-qmp", "unix:vm/web-1.qmp,server,nowait").servesControl(), "relative to the cwd /run");
        assertTrue(strip(Q, "--qmp", "unix:/run/vm/../vm/web-1.qmp").servesControl(), "normalised, --option");
        assertTrue(QemuCommandLine.strip(List.of(Q, "-qmp", "unix:/run/a,,b.qmp,server=on"), Path.of("/run/a,b.qmp"),
            null).servesControl(), ",, is a comma");
        assertFalse(strip(Q, "-qmp", "unix:/run/vm/web-2.qmp").servesControl());
        assertFalse(strip(Q, "-qmp", "tcp:127.0.0.1:4444,server=on").servesControl());
    }

    @Test
    void anOptionsArgumentIsNeverTakenForAnOption()
    {
        final QemuCommandLine.Result r = strip(Q, "-append", "-S", "-name", "-daemonize", "-nographic", "-S");
        assertEquals(List.of(Q, "-append", "-S", "-name", "-daemonize", "-nographic"), r.spec());
    }

    @Test
    void withoutAControlSocketOnlyThePerInstanceOptionsGo()
    {
        assertEquals(List.of(Q, "-qmp", "unix:/x.qmp", "-m", "64"), QemuCommandLine.strip(
            List.of(Q, "-qmp", "unix:/x.qmp", "-incoming", "defer", "-m", "64", "-S"), null, null).spec());
    }

    @Test
    void cmdlineBytesSplitAndJoin()
    {
        final List<String> args = List.of(Q, "-name", "héllo wörld", "");
        final byte[] bytes = QemuCommandLine.join(args);
        assertEquals(0, bytes[bytes.length - 1]);
        assertEquals(args, QemuCommandLine.split(bytes));
        assertEquals(List.of("a", "b"), QemuCommandLine.split(new byte[] {'a', 0, 'b'}), "a last argument without NUL");
    }

    @Test
    void optionValuesSplitAsQemuDoes()
    {
        assertEquals(Map.of("backend", "socket", "id", "m", "path", "/a,b", "server", "on", "wait", "off"),
            QemuCommandLine.options("socket,id=m,path=/a,,b,server,wait=off", "backend"));
        assertEquals("/x", QemuCommandLine.options("/x,server=on", "path").get("path"));
    }

    @Test
    void aSpecThatHoldsAHostEndpointOrDeviceIsNotPooled()
    {
        assertNull(QemuCommandLine.notPoolable(List.of(Q, "-M", "q35", "-m", "64", "-nodefaults", "-nographic",
            "-display", "none", "-device", "virtio-balloon-pci,id=balloon0", "-serial", "mon:stdio", "-monitor", "none",
            "-chardev", "null,id=n", "-netdev", "user,id=u", "-drive", "file=/img/a.qcow2,if=virtio", "-append", "-s")));
        for (final List<String> held : List.of(
            List.of("-qmp", "unix:/run/vm/web-1-balloon.qmp,server=on,wait=off"),
            List.of("-monitor", "unix:/run/vm/web-1.hmp,server=on,wait=off"),
            List.of("-serial", "tcp::4444,server,nowait"),
            List.of("-serial", "file:/var/log/web-1.serial"),
            List.of("-chardev", "socket,id=c,path=/run/vhost.sock"),
            List.of("-vnc", ":1"),
            List.of("-s"),
            List.of("-gdb", "tcp::1234"),
            List.of("-D", "/var/log/qemu.log"),
            List.of("-nic", "user,hostfwd=tcp::2222-:22"),
            List.of("-netdev", "tap,id=t,ifname=tap0"),
            List.of("-device", "vfio-pci,host=0000:01:00.0"),
            List.of("-object", "memory-backend-file,id=m,size=64M,mem-path=/dev/shm/m,share=on")))
        {
            final List<String> spec = new java.util.ArrayList<>(List.of(Q, "-m", "64"));
            spec.addAll(held);
            assertEquals(String.join(" ", held), QemuCommandLine.notPoolable(spec), held::toString);
        }
    }

    @Test
    void fileNamesOfVmsAreSafe()
    {
        assertEquals("web-1.a_B", QemuVmDriver.fileName("web-1.a_B"));
        assertTrue(QemuVmDriver.fileName("../etc/x y").matches("_\\._etc_x_y-[0-9a-f]+"), QemuVmDriver.fileName("../etc/x y"));
        assertTrue(QemuVmDriver.fileName(".hidden").startsWith("_hidden-"));
        assertFalse(QemuVmDriver.fileName(".spare-x1-1").startsWith(QemuSpares.PREFIX), "never a spare's file");
    }
}
