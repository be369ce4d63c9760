package io.vmsched.cluster;

import io.vmsched.dispatch.Guest;
import io.vmsched.handoff.HostMessages;
import io.vmsched.journal.Journal;
import io.vmsched.journal.RecordType;
import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadModel;
import io.vmsched.schedule.EntryState;
import io.vmsched.schedule.Schedule;
import org.agrona.DirectBuffer;

/**
 * A host's side of the embedding API's requests: admission, removal, programmed loads, an external
 * VM's usage, and explicit migration. A request for a VM that has moved on is passed to its new owner;
 * a remove of a migrating VM is held until the migration's outcome.
 * <p>
 * Invariant: every request message that reaches an agent is settled exactly once cluster-wide, by its
 * effect or by one {@link ClusterListener#onRequestFailed}, on the host that last holds it; a host
 * that passes it on (forward, held remove) does not settle it. {@code view.pending} counts the
 * unsettled ones, so {@link Cluster#close()} knows when everything it accepted is done.
 * <p>
 * <b>Note:</b> Not threadsafe: the host's agent only.
 */
final class Requests
{
    private final int hostId;
    private final HostConfig config;
    private final ClusterView view;
    private final Journal journal;
    private final GuestRegistry registry;
    private final Schedule schedule;
    private final VmTable vms;
    private final Forwarder forwarder;
    private final LoadModel model;
    private final HostCapacity capacity;
    private final HostMessages.Admit admit = new HostMessages.Admit();
    private final HostMessages.Usage usage = new HostMessages.Usage();
    private final HostMessages.Migrate migrate = new HostMessages.Migrate();
    private final HostMessages.Remove remove = new HostMessages.Remove();
    private final org.agrona.concurrent.UnsafeBuffer removeBuffer =
        new org.agrona.concurrent.UnsafeBuffer(new byte[HostMessages.Remove.LENGTH]);
    private final HostMessages.Balloon balloon = new HostMessages.Balloon();
    private HandoffSource source;
    private HostBalloons balloons;
    private HostVmDriver vmDriver;
    private Runnable wake = () -> { };

    private DirectBuffer current; // the request being handled, so a handler can pass it on whole
    private int currentOffset;
    private int currentLength;
    private boolean kept;
    // a node's admissions the owner registry has not answered yet: the ADMIT message, kept whole
    private final org.agrona.collections.Long2ObjectHashMap<byte[]> admitting = new org.agrona.collections.Long2ObjectHashMap<>();
    // requests for a VM whose admission waits on the registry: replayed, in order, once it is answered
    private final org.agrona.collections.Long2ObjectHashMap<java.util.List<byte[]>> following =
        new org.agrona.collections.Long2ObjectHashMap<>();

    Requests(final int hostId, final HostConfig config, final ClusterView view, final Journal journal,
        final GuestRegistry registry, final Schedule schedule, final VmTable vms, final Forwarder forwarder,
        final LoadModel model, final HostCapacity capacity)
    {
        this.hostId = hostId;
        this.config = config;
        this.view = view;
        this.journal = journal;
        this.registry = registry;
        this.schedule = schedule;
        this.vms = vms;
        this.forwarder = forwarder;
        this.model = model;
        this.capacity = capacity;
    }

    void source(final HandoffSource source)
    {
        this.source = source;
    }

    /** @return the host's settings. */
    HostConfig config()
    {
        return config;
    }

    /** @param vmDriver the host's hypervisor driver, or null. */
    void vmDriver(final HostVmDriver vmDriver)
    {
        this.vmDriver = vmDriver;
    }

    /**
     * @return why this VM cannot be moved off this host, or null if it can: an external process no driver moves, a
     *         driven VM on a host without its driver, or a driven VM between node processes (not built yet).
     */
    String pinned(final HostVm vm)
    {
        if (movable(vm))
        {
            return null;
        }
        if (!vm.driven)
        {
            return "is an external process (no driver moves it)";
        }
        return "is a hypervisor's VM that host " + hostId + "'s VM driver does not hold";
    }

    /**
     * Recovery (the starting thread): a driven VM found in the journal is adopted again by the host's new driver,
     * which checks that it still runs; one the driver cannot take stays here, pinned, and the listener is told why.
     */
    void adoptAgain(final HostVm vm)
    {
        if (!vm.driven || vm.handle == null)
        {
            return;
        }
        final io.vmsched.vm.VmHandle journaled = vm.handle;
        vm.handle = null;
        String why = null;
        if (vmDriver == null || !vmDriver.vmKind().equals(new String(vm.kindUtf8, java.nio.charset.StandardCharsets.UTF_8)))
        {
            why = "host " + hostId + " has no VM driver of its kind";
        }
        else
        {
            try
            {
                vm.handle = vmDriver.driver.adopt(journaled.name(), journaled.control(), journaled.pid());
            }
            catch (final io.vmsched.vm.VmDriverException ex)
            {
                why = ex.getMessage();
            }
        }
        if (why != null)
        {
            view.listener.onError(hostId, new IllegalStateException("vm " + vm.vmId + " (" + journaled.name() +
                ") stays on host " + hostId + ", pinned: " + why));
        }
    }

    /**
     * Recovery: quit a driven VM's copy that must not run (the starting thread; blocks). A copy this host's driver
     * cannot take (gone already, or not answering) is killed if its process is still the one journaled.
     */
    void quitCopy(final io.vmsched.vm.VmHandle copy)
    {
        quitCopy(copy, true);
    }

    /** @param report whether a copy killed without its driver is told to the listener (not for a stray). */
    private void quitCopy(final io.vmsched.vm.VmHandle copy, final boolean report)
    {
        String why = null;
        if (vmDriver != null)
        {
            try
            {
                vmDriver.driver.remove(vmDriver.driver.adopt(copy.name(), copy.control(), copy.pid()));
                return;
            }
            catch (final io.vmsched.vm.VmDriverException ex)
            {
                why = ex.getMessage();
            }
        }
        final java.util.Optional<ProcessHandle> process = ProcessHandle.of(copy.pid());
        final String line = process.isPresent() ? process.get().info().commandLine().orElse("") : "";
        if (process.isPresent() && (line.contains(copy.control().toString()) || line.contains(linkTarget(copy.control()))))
        {
            process.get().destroyForcibly(); // the copy, still there: it must not run
            if (report)
            {
                view.listener.onError(hostId, new IllegalStateException("recovery: vm " + copy.name() + "'s copy " +
                    "(process " + copy.pid() + ") was killed: its driver could not quit it: " + why));
            }
        }
    }

    /**
     * @return the path a control socket links to, as a string (a driver's copy made of a process started ahead, e.g.
     *         QEMU's spares, is reached through a link: its command line names the target), or a string no
     *         command line holds.
     */
    private static String linkTarget(final java.nio.file.Path control)
    {
        try
        {
            if (java.nio.file.Files.isSymbolicLink(control))
            {
                return control.resolveSibling(java.nio.file.Files.readSymbolicLink(control)).normalize().toString();
            }
        }
        catch (final java.io.IOException | UnsupportedOperationException ex)
        {
            // not readable: the control path alone decides
        }
        return "\0";
    }

    /**
     * Recovery: quit the copies this host's driver started that no VM here is (an incoming copy started just before
     * a crash, before its RECEIVED was journaled: no migration can have reached it, the source sends only after).
     */
    void quitStrays()
    {
        if (vmDriver == null)
        {
            return;
        }
        final java.util.List<io.vmsched.vm.VmHandle> copies;
        try
        {
            copies = vmDriver.driver.copies();
        }
        catch (final io.vmsched.vm.VmDriverException ex)
        {
            view.listener.onError(hostId, new IllegalStateException("recovery: host " + hostId + "'s copies could not " +
                "be listed: " + ex.getMessage()));
            return;
        }
        for (final io.vmsched.vm.VmHandle copy : copies)
        {
            boolean owned = false;
            for (int i = 0; i < vms.size() && !owned; i++)
            {
                final io.vmsched.vm.VmHandle handle = vms.at(i).handle;
                owned = handle != null && handle.pid() == copy.pid();
            }
            if (!owned)
            {
                quitCopy(copy, false); // one whose start the crash cut short may have no socket yet: killed then
            }
        }
    }

    /** Recovery: a driven VM kept here after a migration cut short runs again (the starting thread; blocks). */
    void runAgain(final HostVm vm)
    {
        if (vm.handle == null || vmDriver == null)
        {
            return; // not adopted again: reported then
        }
        final io.vmsched.vm.VmDriver driver = vmDriver.driver;
        try
        {
            final io.vmsched.vm.MigrationState migration = driver.migration(vm.handle).state();
            // NONE: the crash came before the hypervisor was asked to migrate; there is nothing to cancel, and
            // nothing would ever end (waiting for it held the host's start for the whole migration timeout)
            if (migration != io.vmsched.vm.MigrationState.NONE && !migration.isFinal())
            {
                driver.cancelMigration(vm.handle);
                final long deadline = System.nanoTime() + config.vmMigrationTimeoutNs;
                while (!driver.awaitMigration(vm.handle, HandoffSource.DRIVER_WAIT_NS).state().isFinal() &&
                    System.nanoTime() - deadline < 0)
                {
                    // the driver waits (QEMU's events, or 2 ms polls)
                }
            }
            final io.vmsched.vm.VmState state = driver.state(vm.handle);
            if (state.kind() == io.vmsched.vm.VmState.Kind.PAUSED || state.kind() == io.vmsched.vm.VmState.Kind.POSTMIGRATE)
            {
                driver.resume(vm.handle);
            }
        }
        catch (final io.vmsched.vm.VmDriverException ex)
        {
            view.listener.onError(hostId, new IllegalStateException("recovery: vm " + vm.vmId + " stays on host " +
                hostId + ", but its copy could not be made to run: " + ex.getMessage()));
        }
    }

    /** @return whether a migration may move this VM (allocates nothing: the exchange asks it of every candidate). */
    boolean movable(final HostVm vm)
    {
        return !vm.external || vm.driven && vm.handle != null && vmDriver != null;
    }

    /** @param balloons the host's balloon side. @param wake wakes the agent (a guest's balloon answered). */
    void balloons(final HostBalloons balloons, final Runnable wake)
    {
        this.balloons = balloons;
        this.wake = wake;
    }

    /**
     * Handle one request message and settle it unless it was passed on.
     *
     * @param request what it asks.
     * @param type    its message type.
     */
    void onRequest(final Request request, final int type, final DirectBuffer buffer, final int offset, final int length)
    {
        kept = false;
        current = buffer;
        currentOffset = offset;
        currentLength = length;
        if (!admitting.isEmpty() && type != HostMessages.ADMIT && admitting.containsKey(HostMessages.requestVmId(buffer, offset)))
        {
            // a node's admission still waits on the registry: this request follows it (type in the first 4 bytes)
            final byte[] copy = new byte[4 + length];
            new org.agrona.concurrent.UnsafeBuffer(copy).putInt(0, type);
            buffer.getBytes(offset, copy, 4, length);
            following.computeIfAbsent(HostMessages.requestVmId(buffer, offset), k -> new java.util.ArrayList<>()).add(copy);
            return; // not settled: its replay settles it
        }
        try
        {
            switch (type)
            {
                case HostMessages.ADMIT: onAdmit(buffer, offset, length); break;
                case HostMessages.REMOVE: onRemove(HostMessages.requestVmId(buffer, offset)); break;
                case HostMessages.PROGRAM: onProgram(buffer, offset); break;
                case HostMessages.MIGRATE: onMigrate(buffer, offset); break;
                case HostMessages.BALLOON: onBalloon(buffer, offset); break;
                default: onUsage(buffer, offset); break;
            }
        }
        catch (final RuntimeException ex)
        {
            failed(request, buffer, offset, ex.getMessage());
            return;
        }
        if (!kept)
        {
            view.settled();
        }
    }

    /** A request failed here, its message at hand: a balloon call's future is told too. */
    void failed(final Request request, final DirectBuffer buffer, final int offset, final String reason)
    {
        if (request == Request.BALLOON)
        {
            balloon.wrapRead(buffer, offset);
            balloons.failCall(balloon.callId(), balloon.vmId(), reason);
        }
        failed(request, HostMessages.requestVmId(buffer, offset), reason);
    }

    /** A request failed here: tell the listener, then settle it (close() waits for the callback). */
    void failed(final Request request, final long vmId, final String reason)
    {
        if (request == Request.ADMIT && !vms.contains(vmId))
        {
            view.owners.remove(vmId, hostId); // the reservation the API made
        }
        try
        {
            view.listener.onRequestFailed(hostId, request, vmId, reason);
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex);
        }
        view.settled();
    }

    private void onAdmit(final DirectBuffer buffer, final int offset, final int length)
    {
        view.admitsQueued.decrementAndGet(hostId);
        if (view.registry != null)
        {
            // a node: the VM is this host's only once the registry says so; held until it answers
            final long vmId = HostMessages.requestVmId(buffer, offset);
            if (vms.contains(vmId) || admitting.containsKey(vmId))
            {
                throw new IllegalArgumentException("vm " + vmId + " is already on host " + hostId);
            }
            final byte[] copy = new byte[length];
            buffer.getBytes(offset, copy);
            if (!view.registry.requestAdmit(vmId))
            {
                throw new IllegalStateException("vm " + vmId + " not admitted: the owner registry's queue is full; try again");
            }
            admitting.put(vmId, copy);
            kept = true;
            return;
        }
        admitNow(buffer, offset, length);
    }

    /**
     * A node's owner registry answered an admission (agent thread): admit it here, or refuse it.
     *
     * @param vmId    the VM.
     * @param applied whether the registry made this host its owner.
     * @param owner   its owner otherwise.
     */
    void onAdmitAnswer(final long vmId, final boolean applied, final int owner)
    {
        final byte[] message = admitting.remove(vmId);
        if (message == null)
        {
            return;
        }
        if (!applied && owner == OwnerRegistry.REFUSED_BY_RULE)
        {
            failed(Request.ADMIT, vmId, "vm " + vmId + " not admitted on host " + hostId + ": a hard placement rule, " +
                "or a drain of the host, forbids it there (checked by the owner registry; vmsched constraints --registry " +
                "shows both)");
        }
        else if (!applied)
        {
            failed(Request.ADMIT, vmId, "vm " + vmId + " is already in the cluster (the owner registry names host " + owner + ")");
        }
        else
        {
            try
            {
                admitNow(new org.agrona.concurrent.UnsafeBuffer(message), 0, message.length);
                view.settled();
            }
            catch (final RuntimeException ex)
            {
                view.registry.requestRelease(vmId); // refused here after all: it owns nothing
                failed(Request.ADMIT, vmId, ex.getMessage());
            }
        }
        final java.util.List<byte[]> followers = following.remove(vmId);
        if (followers != null)
        {
            for (final byte[] follower : followers)
            {
                final org.agrona.concurrent.UnsafeBuffer buffer = new org.agrona.concurrent.UnsafeBuffer(follower);
                final int type = buffer.getInt(0);
                onRequest(Request.of(type), type, buffer, 4, follower.length - 4);
            }
        }
    }

    private void admitNow(final DirectBuffer buffer, final int offset, final int length)
    {
        admit.wrapRead(buffer, offset);
        final long vmId = admit.vmId();
        final int weight = admit.weight();
        final String kind = admit.kind();
        final byte[] state = admit.state(length);
        boolean inserted = false;
        final HostVm vm;
        try
        {
            if (vms.contains(vmId))
            {
                throw new IllegalArgumentException("vm " + vmId + " is already on host " + hostId);
            }
            vm = newVm(vmId, weight, kind, state);
            // inserted stopped first: a VM the schedule refuses (full, bad weight) is never journaled,
            // and one that is journaled does not run before its ADMITTED record is written
            schedule.insert(vmId, weight, EntryState.SUSPENDED, vm.guest);
            inserted = true;
            journal.appendGuest(RecordType.ADMITTED, 0, vmId, -1, weight, vm.kindUtf8, state);
            if (!vm.external)
            {
                schedule.resume(vmId); // an external VM runs outside: its entry is never dispatched
            }
        }
        catch (final RuntimeException ex)
        {
            if (inserted) // the VM is not in the table yet
            {
                schedule.delete(vmId);
            }
            throw ex;
        }
        vms.add(vm);
        try
        {
            view.listener.onAdmitted(hostId, vmId);
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex); // the admission stands: a listener's failure is not the request's
        }
    }

    /**
     * @return a VM made from its journaled or transferred kind and state (an external VM has no guest).
     */
    HostVm newVm(final long vmId, final int weight, final String kind, final byte[] state)
    {
        final HostVm vm = new HostVm(vmId, weight, kind, null, config.smoothingWindow);
        vm.guest = guest(kind, state);
        if (vm.driven)
        {
            vm.handle = io.vmsched.vm.VmHandle.decode(state); // recovery adopts it again through the driver
        }
        openBalloon(vm, state);
        return vm;
    }

    /**
     * Give an external VM its balloon, if it has one: a driven VM's is its hypervisor driver's (one control client
     * per VM: {@link io.vmsched.vm.VmDriver#balloon}), a PID-bound one's the embedder's ({@link
     * HostConfig#externalBalloons}). Closed when the VM leaves the host's table (VmTable). Agent thread; never blocks.
     *
     * @param vm    the VM, its handle set if it is driven.
     * @param state its journaled state (a PID-bound VM's name and PID).
     */
    void openBalloon(final HostVm vm, final byte[] state)
    {
        final long vmId = vm.vmId;
        if (vm.driven ? vmDriver != null && vm.handle != null &&
            vmDriver.vmKind().equals(new String(vm.kindUtf8, java.nio.charset.StandardCharsets.UTF_8)) :
            vm.external && config.externalBalloons != null)
        {
            try
            {
                final io.vmsched.balloon.BalloonDriver driver = vm.driven ? vmDriver.driver.balloon(vm.handle) :
                    config.externalBalloons.open(vmId, ExternalVm.name(state), ExternalVm.pid(state));
                vm.balloonDriver = driver == null ? null : new DriverMailbox(driver, wake);
            }
            catch (final RuntimeException ex) // the VM runs without a balloon: its requests say so
            {
                view.listener.onError(hostId, new IllegalStateException("vm " + vmId + ": its balloon driver could " +
                    "not be opened: " + ex.getMessage(), ex));
            }
        }
    }

    /**
     * @return a guest of this kind restored from its state, in its balloon's mailbox (null for an external VM: it
     *         runs outside).
     */
    Guest guest(final String kind, final byte[] state)
    {
        return HostRuntime.EXTERNAL_KIND.equals(kind) || kind.startsWith(HostRuntime.DRIVEN_KIND_PREFIX) ? null : new BalloonedGuest(registry.create(kind, state), wake);
    }

    /** @return a VM without its guest yet (a transfer journals RECEIVED before it makes the guest). */
    HostVm shell(final long vmId, final int weight, final String kind)
    {
        return new HostVm(vmId, weight, kind, null, config.smoothingWindow);
    }

    private void onRemove(final long vmId)
    {
        final HostVm vm = vms.get(vmId);
        if (vm == null)
        {
            if (!forwardToOwner(HostMessages.REMOVE, vmId))
            {
                throw new IllegalArgumentException("vm " + vmId + " is not in the cluster");
            }
            return;
        }
        if (vm.out != null)
        {
            vm.heldRemoves++; // done when the migration's outcome is known (held in memory: a crash forgets it)
            kept = true;
            return;
        }
        removeNow(vm);
    }

    private void removeNow(final HostVm vm)
    {
        balloons.left(vm, "vm " + vm.vmId + " was removed before its guest answered");
        journal.append(RecordType.REMOVED, 0, vm.vmId, -1, 0, 0, 0);
        schedule.delete(vm.vmId);
        vms.drop(vm);
        view.owners.remove(vm.vmId, hostId);
        if (view.registry != null)
        {
            view.registry.requestRelease(vm.vmId); // a release that is lost leaves a stale entry, never a second owner
        }
        try
        {
            view.listener.onRemoved(hostId, vm.vmId);
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex);
        }
    }

    /** The VM's migration aborted: it stayed here, so the removes held for it are done here now. */
    void removeHeld(final HostVm vm)
    {
        final int held = vm.heldRemoves;
        vm.heldRemoves = 0;
        for (int i = 0; i < held; i++)
        {
            if (i > 0)
            {
                failed(Request.REMOVE, vm.vmId, "vm " + vm.vmId + " was removed by an earlier request");
                continue;
            }
            try
            {
                removeNow(vm);
            }
            catch (final RuntimeException ex)
            {
                failed(Request.REMOVE, vm.vmId, ex.getMessage());
                continue;
            }
            view.settled();
        }
    }

    /** The VM's migration committed: the removes held for it follow it; the target settles them. */
    void forwardHeld(final HostVm vm, final int target)
    {
        if (view.remote(target))
        {
            for (int i = vm.heldRemoves; i > 0; i--) // another node's now: its caller must ask there
            {
                failed(Request.REMOVE, vm.vmId, "vm " + vm.vmId + " moved to host " + target + " before its removal: remove it there");
            }
            vm.heldRemoves = 0;
            return;
        }
        for (int i = vm.heldRemoves; i > 0; i--)
        {
            remove.wrap(removeBuffer, 0).vmId(vm.vmId);
            forwarder.send(target, HostMessages.REMOVE, removeBuffer, 0, HostMessages.Remove.LENGTH);
        }
        vm.heldRemoves = 0;
    }

    /** At close: the removes still held for migrations in flight are reported failed. */
    void failHeld()
    {
        for (final long vmId : admitting.keySet().toArray(new Long[0]))
        {
            admitting.remove(vmId);
            failed(Request.ADMIT, vmId, "host " + hostId + " closed before the owner registry answered its admission");
            final java.util.List<byte[]> followers = following.remove(vmId);
            for (int i = 0; followers != null && i < followers.size(); i++)
            {
                final org.agrona.concurrent.UnsafeBuffer follower = new org.agrona.concurrent.UnsafeBuffer(followers.get(i));
                failed(Request.of(follower.getInt(0)), follower, 4, "host " + hostId + " closed before vm " + vmId +
                    " was admitted");
            }
        }
        for (int i = 0, n = vms.size(); i < n; i++)
        {
            final HostVm vm = vms.at(i);
            for (int r = 0; r < vm.heldRemoves; r++)
            {
                failed(Request.REMOVE, vm.vmId, "host " + hostId + " closed while the vm was migrating");
            }
            vm.heldRemoves = 0;
        }
    }

    /**
     * Pass the current request for a VM that is not here on to the host that owns it now.
     *
     * @return false if no other host owns it.
     */
    private boolean forwardToOwner(final int type, final long vmId)
    {
        final Integer owner = view.owners.get(vmId);
        if (owner == null || owner == hostId)
        {
            return false;
        }
        kept = true;
        forwarder.send(owner, type, current, currentOffset, currentLength);
        return true;
    }

    private void onProgram(final DirectBuffer buffer, final int offset)
    {
        usage.wrapRead(buffer, offset);
        final long vmId = usage.vmId();
        final HostVm vm = vms.get(vmId);
        if (vm == null)
        {
            if (!forwardToOwner(HostMessages.PROGRAM, vmId))
            {
                throw new IllegalArgumentException("vm " + vmId + " is not in the cluster");
            }
            return;
        }
        if (Double.isNaN(usage.cpu()))
        {
            vm.load.clearTarget();
        }
        else
        {
            vm.load.program(usage.cpu(), usage.io(), usage.memory());
        }
    }

    private void onUsage(final DirectBuffer buffer, final int offset)
    {
        usage.wrapRead(buffer, offset);
        final long vmId = usage.vmId();
        final HostVm vm = vms.get(vmId);
        if (vm == null)
        {
            if (!forwardToOwner(HostMessages.USAGE, vmId))
            {
                throw new IllegalArgumentException("vm " + vmId + " is not in the cluster");
            }
            return;
        }
        if (!vm.external)
        {
            throw new IllegalArgumentException("vm " + vmId + " is a guest: its usage is measured, not reported");
        }
        vm.usageCpu = usage.cpu();
        vm.usageIo = usage.io();
        vm.usageMemory = usage.memory();
    }

    private void onBalloon(final DirectBuffer buffer, final int offset)
    {
        balloon.wrapRead(buffer, offset);
        final long vmId = balloon.vmId();
        final HostVm vm = vms.get(vmId);
        if (vm == null)
        {
            final Integer owner = view.owners.get(vmId);
            if (owner != null && owner != hostId && view.remote(owner))
            {
                // its future is in this JVM: another node could not answer it
                throw new IllegalArgumentException("vm " + vmId + " moved to host " + owner + ", another node's: ask there");
            }
            if (!forwardToOwner(HostMessages.BALLOON, vmId))
            {
                throw new IllegalArgumentException("vm " + vmId + " is not in the cluster");
            }
            return;
        }
        kept = true; // settled when its result is known
        balloons.request(vm, balloon.memoryBytes(), balloon.processors(), balloon.callId(), System.nanoTime());
    }

    private void onMigrate(final DirectBuffer buffer, final int offset)
    {
        migrate.wrapRead(buffer, offset);
        final long vmId = migrate.vmId();
        final int target = migrate.target();
        final HostVm vm = vms.get(vmId);
        final Integer owner = view.owners.get(vmId);
        if (vm == null && owner != null && owner != target && forwardToOwner(HostMessages.MIGRATE, vmId))
        {
            return; // it moved on since the call: the host that has it now starts the migration
        }
        final String pinned = vm == null ? null : pinned(vm);
        if (vm == null || vm.out != null || pinned != null || target == hostId || target < 0 || target >= view.hosts)
        {
            throw new IllegalArgumentException("vm " + vmId + (vm == null ? " is not on host " + hostId :
                vm.out != null ? " is already migrating" : pinned != null ? " " + pinned : " cannot go to host " + target));
        }
        final double here = model.load(vm.load.factors(), capacity);
        source.start(vm, target, here, model.load(vm.load.factors(), view.capacities[target]), System.nanoTime());
    }
}
