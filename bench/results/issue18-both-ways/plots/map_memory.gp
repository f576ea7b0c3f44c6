set terminal pngcairo size 900,520 font 'sans,10'
set output '/tmp/b18/plots/map_memory.png'
set title 'kernel memory of the datapath''s maps, sized for N endpoints, N published ports, N mark rules and 10 x N flows'
set xlabel 'N (published ports and mark rules)'
set ylabel 'MiB'
set logscale x
set xrange [0.5:200000]
set yrange [0:*]
set key outside right
set grid
plot '/tmp/b18/plots/map_memory.dat' index 0 using 1:2:3:4 with yerrorlines lw 2 title 'flatpath maps'
