package io.mucheckpoint.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Line and bar charts as PNG files, drawn with Java2D so the report needs nothing outside the JDK.
 * An x axis may be logarithmic; series are drawn in a fixed palette with a legend.
 */
final class Plot {
    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0x9467bd),
        new Color(0xff7f0e), new Color(0x8c564b), new Color(0x17becf), new Color(0x7f7f7f)
    };
    private static final int W = 880, H = 520, LEFT = 80, RIGHT = 190, TOP = 50, BOTTOM = 70;

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private boolean logX;
    private boolean logY;
    private final Map<String, List<double[]>> series = new LinkedHashMap<>();
    /** Horizontal reference lines (a target), drawn dashed across a bar chart: label and y. */
    private final Map<String, Double> hlines = new LinkedHashMap<>();

    Plot(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    Plot logX() {
        logX = true;
        return this;
    }

    Plot logY() {
        logY = true;
        return this;
    }

    Plot point(String name, double x, double y) {
        series.computeIfAbsent(name, k -> new ArrayList<>()).add(new double[] {x, y});
        return this;
    }

    /** A dashed horizontal line at {@code y} across a bar chart, named in the legend. */
    Plot hline(String name, double y) {
        hlines.put(name, y);
        return this;
    }

    /** A line chart of every series. */
    void writeLines(Path file) throws IOException {
        BufferedImage img = canvas();
        Graphics2D g = img.createGraphics();
        setup(g);
        double[] xr = range(0), yr = range(1);
        axes(g, xr, yr);
        int c = 0;
        for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
            List<double[]> pts = new ArrayList<>(e.getValue());
            pts.sort((a, b) -> Double.compare(a[0], b[0]));
            g.setColor(PALETTE[c % PALETTE.length]);
            g.setStroke(new BasicStroke(2.2f));
            int px = -1, py = -1;
            for (double[] p : pts) {
                int x = sx(p[0], xr), y = sy(p[1], yr);
                if (px >= 0) g.drawLine(px, py, x, y);
                g.fillOval(x - 4, y - 4, 8, 8);
                px = x;
                py = y;
            }
            legend(g, c, e.getKey());
            c++;
        }
        ImageIO.write(img, "png", file.toFile());
    }

    /** Grouped bars: one group per x category (the x values are indexes into {@code categories}). */
    void writeBars(Path file, List<String> categories) throws IOException {
        BufferedImage img = canvas();
        Graphics2D g = img.createGraphics();
        setup(g);
        double[] yr = range(1);
        yr[0] = Math.min(0, yr[0]);
        for (double h : hlines.values()) yr[1] = Math.max(yr[1], h * 1.1);
        double[] xr = {-0.5, categories.size() - 0.5};
        axesY(g, yr);
        int groups = categories.size();
        int n = series.size();
        double groupWidth = (W - LEFT - RIGHT) / (double) groups;
        double barWidth = groupWidth * 0.8 / Math.max(1, n);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        for (int k = 0; k < groups; k++) {
            g.setColor(Color.DARK_GRAY);
            int cx = sx(k, xr);
            String label = categories.get(k);
            g.drawString(label, cx - g.getFontMetrics().stringWidth(label) / 2, H - BOTTOM + 18);
        }
        int c = 0;
        for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
            g.setColor(PALETTE[c % PALETTE.length]);
            for (double[] p : e.getValue()) {
                double x0 = sx(p[0], xr) - groupWidth * 0.4 + c * barWidth;
                int y = sy(p[1], yr), y0 = sy(0, yr);
                g.fillRect((int) x0, Math.min(y, y0), (int) Math.max(1, barWidth - 2), Math.abs(y0 - y));
            }
            legend(g, c, e.getKey());
            c++;
        }
        for (Map.Entry<String, Double> h : hlines.entrySet()) {
            g.setColor(Color.BLACK);
            g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            int y = sy(h.getValue(), yr);
            g.drawLine(LEFT, y, W - RIGHT, y);
            g.setStroke(new BasicStroke(1f));
            int ly = TOP + 10 + c * 20;
            g.drawLine(W - RIGHT + 20, ly - 4, W - RIGHT + 34, ly - 4);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.drawString(h.getKey(), W - RIGHT + 40, ly);
            c++;
        }
        g.setColor(Color.DARK_GRAY);
        g.drawString(xLabel, LEFT + (W - LEFT - RIGHT) / 2 - g.getFontMetrics().stringWidth(xLabel) / 2, H - 20);
        ImageIO.write(img, "png", file.toFile());
    }

    private BufferedImage canvas() {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        return img;
    }

    private void setup(Graphics2D g) {
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, LEFT, 30);
    }

    private double[] range(int axis) {
        double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
        for (List<double[]> pts : series.values()) {
            for (double[] p : pts) {
                lo = Math.min(lo, p[axis]);
                hi = Math.max(hi, p[axis]);
            }
        }
        if (lo == Double.MAX_VALUE) return new double[] {0, 1};
        boolean log = axis == 0 ? logX : logY;
        if (log) return new double[] {Math.log10(Math.max(lo, 1e-9)) - 0.05, Math.log10(Math.max(hi, 1e-9)) + 0.05};
        if (axis == 1) lo = Math.min(lo, 0);
        if (hi == lo) hi = lo + 1;
        double pad = (hi - lo) * 0.08;
        return new double[] {axis == 1 && lo == 0 ? 0 : lo - pad, hi + pad};
    }

    private int sx(double x, double[] r) {
        double v = logX ? Math.log10(Math.max(x, 1e-9)) : x;
        return LEFT + (int) Math.round((v - r[0]) / (r[1] - r[0]) * (W - LEFT - RIGHT));
    }

    private int sy(double y, double[] r) {
        double v = logY ? Math.log10(Math.max(y, 1e-9)) : y;
        return H - BOTTOM - (int) Math.round((v - r[0]) / (r[1] - r[0]) * (H - TOP - BOTTOM));
    }

    private void axes(Graphics2D g, double[] xr, double[] yr) {
        axesY(g, yr);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        List<Double> xs = new ArrayList<>();
        for (List<double[]> pts : series.values()) for (double[] p : pts) if (!xs.contains(p[0])) xs.add(p[0]);
        for (double x : xs) {
            int px = sx(x, xr);
            g.setColor(new Color(0xEEEEEE));
            g.drawLine(px, TOP, px, H - BOTTOM);
            g.setColor(Color.DARK_GRAY);
            String t = num(x);
            g.drawString(t, px - g.getFontMetrics().stringWidth(t) / 2, H - BOTTOM + 18);
        }
        g.drawString(xLabel, LEFT + (W - LEFT - RIGHT) / 2 - g.getFontMetrics().stringWidth(xLabel) / 2, H - 20);
    }

    private void axesY(Graphics2D g, double[] yr) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(Color.DARK_GRAY);
        g.drawLine(LEFT, TOP, LEFT, H - BOTTOM);
        g.drawLine(LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM);
        for (int k = 0; k <= 5; k++) {
            double v = yr[0] + (yr[1] - yr[0]) * k / 5;
            double value = logY ? Math.pow(10, v) : v;
            int y = H - BOTTOM - (int) Math.round((double) k / 5 * (H - TOP - BOTTOM));
            g.setColor(new Color(0xEEEEEE));
            g.drawLine(LEFT + 1, y, W - RIGHT, y);
            g.setColor(Color.DARK_GRAY);
            String t = num(value);
            g.drawString(t, LEFT - 8 - g.getFontMetrics().stringWidth(t), y + 4);
        }
        Graphics2D r = (Graphics2D) g.create();
        r.rotate(-Math.PI / 2);
        r.drawString(yLabel, -(TOP + (H - TOP - BOTTOM) / 2) - g.getFontMetrics().stringWidth(yLabel) / 2, 20);
        r.dispose();
    }

    private void legend(Graphics2D g, int index, String name) {
        int x = W - RIGHT + 20, y = TOP + 10 + index * 20;
        g.fillRect(x, y - 9, 14, 10);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.drawString(name, x + 20, y);
    }

    static String num(double v) {
        double a = Math.abs(v);
        if (a >= 1000) return String.format(Locale.ROOT, "%.0f", v);
        if (a >= 10) return String.format(Locale.ROOT, "%.0f", v);
        if (a >= 1) return String.format(Locale.ROOT, "%.1f", v);
        if (a == 0) return "0";
        return String.format(Locale.ROOT, "%.2f", v);
    }
}
