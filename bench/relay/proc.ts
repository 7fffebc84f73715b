/** Reading a server process's CPU time and memory from /proc, and describing the machine. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";

let clkTck: number | undefined;

/** Clock ticks per second (getconf CLK_TCK), the unit of utime and stime. */
export function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime of every thread of `pid`, in seconds. */
export function cpuSeconds(pid: number): number {
  const { user, system } = cpuSplit(pid);
  return user + system;
}

/** utime and stime (user space and kernel) of every thread of `pid`, in seconds. */
export function cpuSplit(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name may hold spaces and parentheses: fields start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return { user: utime / clockTicks(), system: stime / clockTicks() };
}

/** Read and write system calls made so far by every thread of `pid` (/proc/<pid>/io). */
export function syscalls(pid: number): { reads: number; writes: number } {
  const io = readFileSync(`/proc/${pid}/io`, "utf8");
  return {
    reads: Number(/^syscr:\s+(\d+)/m.exec(io)?.[1] ?? Number.NaN),
    writes: Number(/^syscw:\s+(\d+)/m.exec(io)?.[1] ?? Number.NaN),
  };
}

/** VmRSS of `pid`, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** The commit measured, and whether apps/ or packages/ differ from it. */
export function describeCode(root: string): { commit: string; local_changes: boolean } {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd: root,
      encoding: "utf8",
    }).trim();
    const status = execFileSync("git", ["status", "--porcelain", "--", "apps", "packages"], {
      cwd: root,
      encoding: "utf8",
    });
    return { commit, local_changes: status.trim() !== "" };
  } catch {
    return { commit: "unknown", local_changes: false };
  }
}

export interface Machine {
  nproc: number;
  cpu_model: string;
  mem_total_bytes: number;
  node: string;
  kernel: string;
  open_files_limit: string;
  clk_tck: number;
}

export function describeMachine(): Machine {
  const cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown";
  const meminfo = readFileSync("/proc/meminfo", "utf8");
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? 0);
  let nproc = os.availableParallelism();
  let limit = "unknown";
  try {
    nproc = Number(execFileSync("nproc", { encoding: "utf8" }).trim());
  } catch {}
  try {
    limit = execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim();
  } catch {}
  return {
    nproc,
    cpu_model: model,
    mem_total_bytes: memKb * 1024,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    open_files_limit: limit,
    clk_tck: clockTicks(),
  };
}

/**
 * CPU time every process on the machine spent (all cores, /proc/stat), in seconds:
 * compared with the server's and the load processes' own time it shows how much
 * else was running during a window.
 */
export function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  // cpu user nice system idle iowait irq softirq steal guest guest_nice
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / clockTicks()
  );
}

/** utime + stime of `pid`'s main thread only (the event loop), in seconds. */
export function mainThreadCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}
