# spy.status() at the prompt: the session, the dashboard link, the current
# computation with its progress, the workers table and the recent log; the
# client's summary line and help(client) with the dashboard link and the
# ssh -L hint; the server stops with the last client or cluster holding it.
timeout 30
spawn spy -i
expect spy> 
send spy.status()\n
expect dashboard: not running
expect \ncomputation: none yet
expect \nworkers: 0 available, 0 busy
expect \nspy> 
send cluster = spy.LocalCluster{n_workers = 2, dashboard_address = ":0"}; client = spy.Client(cluster)\n
expect - IMPORTANT: Dashboard accessible at http://127.0.0.1:
expect /status?token=
expect \nspy> 
send w = spy.synthdata.white_noise{nTrials = 16, nSamples = 1000, nChannels = 4, seed = 1}\n
expect \nspy> 
send s = spy.freqanalysis(w, {method = "mtmfft", foilim = {1, 100}}); client:status()\n
expect dashboard: http://127.0.0.1:
expect /status?token=
expect \ncomputation 2 (mtmfft): finished, 16/16 tasks (100%), 
expect  s\nworkers: 2 available, 0 busy\n
expect   id   name                         state slurm job job state                  host             task                       done      memory\n
expect   1    local-0                      idle  -         -                          
expect   2    local-1                      idle  -         -                          
expect recent log:\n
expect - IMPORTANT: ..attaching to running client:
expect \nspy> 
send client.dashboard_link == cluster.dashboard_link, client.dashboard_link:match("^http://127%.0%.0%.1:%d+/status%?token=%x+$") ~= nil\n
expect \ntrue\ttrue\nspy> 
send port = client.dashboard_link:match(":(%d+)/"); function listening() return os.execute("bash -c 'exec 3<>/dev/tcp/127.0.0.1/" .. port .. "' 2>/dev/null") == true end\n
expect \nspy> 
send listening()\n
expect \ntrue\nspy> 
send help(client)\n
expect Client object
expect Dashboard (live status in a browser; client:status() prints the same):
expect \n  http://127.0.0.1:
expect ssh -L 
expect :127.0.0.1:
expect Fields (obj.name):\n  cluster, dashboard_link, n_workers
expect status  Print the
expect \nspy> 
send spy.cluster_cleanup()\n
expect Successfully shut down
expect \nspy> 
send client.dashboard_link, cluster.dashboard_link\n
expect \nnil\tnil\nspy> 
send listening()\n
expect \nfalse\nspy> 
send spy.status()\n
expect dashboard: not running
expect \nworkers: 0 available, 0 busy\n
expect \nspy> 
send c2 = spy.LocalCluster{n_workers = 1, dashboard_address = false}; client2 = spy.Client(c2)\n
expect \nspy> 
send client2.dashboard_link, c2.dashboard_link\n
expect \nnil\tnil\nspy> 
absent Dashboard accessible
send c3 = spy.LocalCluster{n_workers = 1, dashboard_address = ":0"}; client3 = spy.Client(c3); port = client3.dashboard_link:match(":(%d+)/")\n
expect \nspy> 
send client3:close()\n
expect \nspy> 
send listening(), c3.dashboard_link ~= nil\n
expect \ntrue\ttrue\nspy> 
send c3:close()\n
expect \nspy> 
send listening(), c3.dashboard_link\n
expect \nfalse\tnil\nspy> 
send spy.LocalCluster{dashboard_address = "nohost:x"}\n
expect Invalid value of `dashboard_address`: 'nohost:x'; expected 'host:port', ':port', a port number, or false to disable the dashboard
expect spy> 
key C-d
exit 0
