import { useEffect, useMemo, useState } from "react";
import { formatCurrency } from "../../lib/formatting/currency";
import type { CartItem, ShippingOption } from "@/types/checkout";

const SHIPPING_OPTIONS: ShippingOption[] = [
  { id: "standard", label: "Standard (3-5 days)", priceCents: 499 },
  { id: "express", label: "Express (1-2 days)", priceCents: 1299 },
];

export interface CheckoutProps {
  items: CartItem[];
  currency: string;
  onSubmit: (orderId: string) => void;
}

export function Checkout({ items, currency, onSubmit }: CheckoutProps) {
  const [shippingId, setShippingId] = useState<string>("standard");
  const [password, setPassword] = useState("");
  const [isSubmitting, setIsSubmitting] = useState(false);

  const subtotalCents = useMemo(
    () => items.reduce((sum, item) => sum + item.priceCents * item.quantity, 0),
    [items],
  );

  useEffect(() => {
    document.title = `Checkout (${items.length} items)`;
  }, [items.length]);

  async function submit() {
    setIsSubmitting(true);
    const token = localStorage.getItem("authToken");
    const response = await fetch("/api/v2/orders", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ items, shippingId, password }),
    });
    const { orderId } = await response.json();
    setIsSubmitting(false);
    onSubmit(orderId);
  }

  return (
    <form onSubmit={submit} className="checkout-form grid-cols-2 gap-4 bg-slate-100">
      <p>{formatCurrency(subtotalCents, currency)}</p>
      <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
      <button disabled={isSubmitting} style={{ color: "#3b82f6" }}>Pay now</button>
    </form>
  );
}
