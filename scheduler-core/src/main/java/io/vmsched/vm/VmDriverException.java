package io.vmsched.vm;

/**
 * A {@link VmDriver} could not do what it was asked: the message is one line naming the VM and the problem, e.g.
 * {@code vm web-1: /run/web-1.qmp does not speak QMP: its first line is 'SSH-2.0-OpenSSH_9.2'}. Immutable.
 */
public final class VmDriverException extends Exception
{
    private static final long serialVersionUID = 1L;

    private final String vm;
    private final String problem;

    /**
     * @param vm      the VM's name.
     * @param problem what is wrong, in words (line breaks are turned into spaces).
     */
    public VmDriverException(final String vm, final String problem)
    {
        this(vm, problem, null);
    }

    /**
     * @param vm      the VM's name.
     * @param problem what is wrong, in words (line breaks are turned into spaces).
     * @param cause   the failure behind it, or null.
     */
    public VmDriverException(final String vm, final String problem, final Throwable cause)
    {
        super("vm " + vm + ": " + oneLine(problem), cause);
        this.vm = vm;
        this.problem = oneLine(problem);
    }

    /** @return the VM's name. */
    public String vm()
    {
        return vm;
    }

    /** @return what is wrong, without the VM's name. */
    public String problem()
    {
        return problem;
    }

    private static String oneLine(final String text)
    {
        return null == text ? "" : text.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
