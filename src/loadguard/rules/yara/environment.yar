// Environment markers: checks whether the code runs in a VM, a container, a
// sandbox or under a debugger, so a payload can stay quiet during analysis.
// One marker alone is low (some libraries check for Docker); several kinds in
// one file is the evasion pattern the study saw.

rule LG_YARA_ENV_MARKER
{
    meta:
        id = "LG-YARA-ENV-001"
        cwe = "CWE-506"
        severity = "low"
        description = "Virtualization, sandbox or debugger check"
        family = "environment-marker"
    strings:
        $vbox = /\b(VBoxService|VBoxTray|VBOX HARDDISK|VirtualBox|vboxguest)\b/ ascii nocase
        $vmware = /\b(vmtoolsd|vmware(tools)?|VMware Virtual)\b/ ascii nocase
        $qemu = /\b(QEMU HARDDISK|qemu-ga|QEMU Virtual CPU)\b/ ascii
        $hyperv = /\b(Hyper-V|hv_vmbus|Microsoft Hv)\b/ ascii
        $xen = /\/proc\/xen\b|\bxenstore\b/ ascii
        $dmi = /\/sys\/class\/dmi\/id\/(product_name|sys_vendor|board_vendor)/ ascii
        $cpuinfo = /["']hypervisor["']\s+in\b/ ascii
        $docker = /\/\.dockerenv\b/ ascii
        $cgroup = /\/proc\/(1|self)\/cgroup\b/ ascii
        $tracer = "TracerPid" ascii
        $gettrace = /sys\.gettrace\s*\(\s*\)\s*(is\s+not\s+None|!=\s*None)/ ascii
        $ptrace = /\bptrace\s*\(\s*(PTRACE_TRACEME|0)\b/ ascii
        $isdebug = "IsDebuggerPresent" ascii
        $sandbox = /\b(cuckoomon|cuckoo sandbox|sandboxie|SbieDll|joeboxcontrol|joeboxserver|wine_get_version)\b/ ascii nocase
        $analyst = /\b(wireshark|procmon|x64dbg|ollydbg|ida64|fiddler)\.exe\b/ ascii nocase
        $ci = /os\.environ\.get\(\s*["'](CI|GITHUB_ACTIONS|GITLAB_CI|JENKINS_URL|BUILDKITE)["']\s*\)/ ascii
    condition:
        filesize < 64MB and any of them
}

rule LG_YARA_ENV_EVASION
{
    meta:
        id = "LG-YARA-ENV-002"
        cwe = "CWE-506"
        severity = "medium"
        description = "Several kinds of environment checks in one file (analysis evasion)"
        family = "environment-marker"
    strings:
        $vm1 = /\b(VBoxService|VBoxTray|VBOX HARDDISK|VirtualBox|vboxguest)\b/ ascii nocase
        $vm2 = /\b(vmtoolsd|vmware(tools)?|VMware Virtual)\b/ ascii nocase
        $vm3 = /\b(QEMU HARDDISK|qemu-ga|QEMU Virtual CPU)\b/ ascii
        $vm4 = /\/sys\/class\/dmi\/id\/(product_name|sys_vendor|board_vendor)/ ascii
        $vm5 = /["']hypervisor["']\s+in\b/ ascii
        $ct1 = /\/\.dockerenv\b/ ascii
        $ct2 = /\/proc\/(1|self)\/cgroup\b/ ascii
        $dbg1 = "TracerPid" ascii
        $dbg2 = /sys\.gettrace\s*\(\s*\)\s*(is\s+not\s+None|!=\s*None)/ ascii
        $dbg3 = "IsDebuggerPresent" ascii
        $sb1 = /\b(cuckoomon|cuckoo sandbox|sandboxie|SbieDll|joeboxcontrol|joeboxserver|wine_get_version)\b/ ascii nocase
        $sb2 = /\b(wireshark|procmon|x64dbg|ollydbg|fiddler)\.exe\b/ ascii nocase
        $ci = /os\.environ\.get\(\s*["'](CI|GITHUB_ACTIONS|GITLAB_CI|JENKINS_URL)["']\s*\)/ ascii
    condition:
        filesize < 64MB and (
            (any of ($vm*) and any of ($ct*, $dbg*, $sb*, $ci)) or
            (any of ($ct*) and any of ($dbg*, $sb*, $ci)) or
            (any of ($dbg*) and any of ($sb*, $ci)) or
            (any of ($sb*) and $ci)
        )
}
