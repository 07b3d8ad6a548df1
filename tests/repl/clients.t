# Clusters and clients at the prompt (issue 19, item 6): help(cluster) lists
# fields and methods, cluster:<Tab> / client:<Tab> complete methods,
# cluster.<Tab> / client.<Tab> fields.
spawn spy -i
expect spy> 
send cluster = spy.LocalCluster{n_workers = 1}; client = spy.Client(cluster)\n
expect \nspy> 
send help(cluster)\n
expect LocalCluster object: worker threads on this machine; attach with spy.Client(cluster)
expect Fields (obj.name):\n  dashboard_link, memory_limit, n_workers, threads
expect Methods (obj:name(...)):\n  close  Stop the cluster's worker threads
expect \nspy> 
send cluster:cl\t
expect cluster:close
send \x15
send cluster.n_w\t
expect cluster.n_workers
send \x15
send cluster.\t\t
expect memory_limit
expect threads
send \x15
send client:st\t
expect client:status
send \x15
send client.clu\t
expect client.cluster
send \x15
send slurm = spy.SLURMCluster{cores = 1, memory = "1 GB", processes = 1, queue = "q"}\n
expect \nspy> 
send help(slurm)\n
expect SLURMCluster object: workers as Slurm jobs; attach with spy.Client(cluster)
expect log_directory, requested, threads, workers
expect wait_for_workers  Wait until n workers have connected
expect \nspy> 
send slurm:wa\t
expect slurm:wait_for_workers
send \x15
send slurm:j\t
expect slurm:job_script
send \x15
send slurm.log\t
expect slurm.log_directory
send \x15
send slurm:close()\n
expect \nspy> 
key C-d
exit 0
