// Command pause is the sandbox process of every pod: it holds the pod's namespaces open, reaps orphaned
// children (it is PID 1 when the pod shares a PID namespace) and exits cleanly on SIGINT or SIGTERM.
// kiab builds it here instead of pulling registry.k8s.io/pause, so clusters need no image registry.
//
// Like upstream's pause, `pause -v` prints its name and exits 0: `kubeadm upgrade apply` checks that the
// cluster runs workloads with a Job of exactly that, which must complete.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println("pause (kiab)")
		return
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var status syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
