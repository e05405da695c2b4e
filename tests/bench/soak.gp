# bench-soak's plot: gnuplot -c soak.gp soak.csv soak.png
# One panel per figure against the simulated day; the weekly events
# (bluetoothd restart, broker down/up) are the CSV's last column.
csv = ARG1
png = ARG2
set datafile separator ","
set terminal pngcairo size 1200,1500 font ",10"
set output png
set multiplot layout 6,1 title "bench-soak: recoveryd, demo household, per simulated hour"
set grid
set key top left
set xlabel "simulated day"
set xrange [-1:*]
plot csv every ::1 using 3:($6*1000) with lines lw 1 title "CPU ms per simulated hour"
plot csv every ::1 using 3:($7/1024) with lines lw 2 title "RssAnon MB", \
     csv every ::1 using 3:($13/1024) with lines lw 2 title "USS MB (private pages)", \
     csv every ::1 using 3:($8/1024) with lines lw 2 title "PSS MB", \
     csv every ::1 using 3:($12/1024) with lines lw 1 title "VmRSS MB"
set yrange [0:*]
plot csv every ::1 using 3:9 with steps lw 2 title "open fds", \
     csv every ::1 using 3:(strcol(14) eq "bluetoothd-restart" ? $9 : 1/0) with points pt 7 ps 1.2 title "bluetoothd restart"
plot csv every ::1 using 3:($10/1048576) with lines lw 2 title "database + WAL MB"
plot csv every ::1 using 3:11 with steps lw 2 title "outbox unsent rows", \
     csv every ::1 using 3:(strcol(14) eq "broker-down" ? 0 : 1/0) with points pt 9 ps 1.5 title "broker down", \
     csv every ::1 using 3:(strcol(14) eq "broker-up" ? 0 : 1/0) with points pt 11 ps 1.5 title "broker up"
set yrange [*:*]
plot csv every ::1 using 3:5 with lines lw 2 title "CPU s cumulative"
unset multiplot
