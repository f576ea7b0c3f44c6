set terminal pngcairo size 900,520 font 'sans,10'
set output '/tmp/bcl7/plots/bulk_load.png'
set title 'N published ports and mark rules loaded at once'
set xlabel 'N (published ports and mark rules)'
set ylabel 'ms'
set logscale x
set xrange [0.5:20000]
set yrange [0:*]
set key outside right
set grid
plot '/tmp/bcl7/plots/bulk_load.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 title 'iptables-restore', '/tmp/bcl7/plots/bulk_load.dat' index 1 using 1:2:3:4 with yerrorlines lw 2 title 'flatpath API'
